output "bucket_name" {
  description = "Name of the bucket holding the built web app (sync web/dist here)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the web app bucket."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the bucket (the deploy role needs kms:GenerateDataKey on it to upload)."
  value       = local.kms_key_arn
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "CloudFront domain name (<id>.cloudfront.net): the target of the aliases' DNS records."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "hosted_zone_id" {
  description = "Route 53 hosted zone ID of CloudFront (for alias records)."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "url" {
  description = "Public URL of the app: https:// and the first alias, or the CloudFront domain name."
  value       = "https://${try(var.aliases[0], aws_cloudfront_distribution.this.domain_name)}"
}
