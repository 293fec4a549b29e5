output "arn" {
  description = "ARN of the conversations table."
  value       = aws_dynamodb_table.this.arn
}

output "name" {
  description = "Name of the conversations table."
  value       = aws_dynamodb_table.this.name
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the table (the module's own, or the one given)."
  value       = local.kms_key_arn
}
