output "arn" {
  description = "ARN of the segments queue (the processor's event source)."
  value       = aws_sqs_queue.this.arn
}

output "url" {
  description = "URL of the segments queue."
  value       = aws_sqs_queue.this.url
}

output "name" {
  description = "Name of the segments queue."
  value       = aws_sqs_queue.this.name
}

output "dead_letter_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.name
}
