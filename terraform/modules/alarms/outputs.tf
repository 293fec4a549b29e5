output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (subscribe more endpoints to it)."
  value       = aws_sns_topic.this.arn
}

output "alarm_arns" {
  description = "ARN of every alarm, by a stable key: dead_letter_messages, queue_age, lambda_errors, lambda_throttles, alb_5xx, ingest_upstream_errors, target_5xx/<target group>, unhealthy_hosts/<target group>, ecs_cpu/<service>, ecs_memory/<service>."
  value = merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn },
    { ingest_upstream_errors = aws_cloudwatch_metric_alarm.ingest_upstream_errors.arn },
  )
}
