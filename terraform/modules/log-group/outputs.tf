output "name" {
  description = "Name of the log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "arn" {
  description = "ARN of the log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "kms_key_arn" {
  description = "ARN of the key encrypting the group (created or given)."
  value       = local.kms_key_arn
}
