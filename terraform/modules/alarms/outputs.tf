output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (subscribe more endpoints to it)."
  value       = aws_sns_topic.this.arn
}

output "alarm_arns" {
  description = "ARN of every alarm, by a stable key: dead_letter_messages, queue_age, lambda_errors, lambda_throttles, alb_5xx, ingest_upstream_errors, target_5xx/<target group>, unhealthy_hosts/<target group>, ecs_cpu/<service>, ecs_memory/<service>."
  value = merge(
    {
      dead_letter_messages   = aws_cloudwatch_metric_alarm.dead_letter_messages.arn
      queue_age              = aws_cloudwatch_metric_alarm.queue_age.arn
      lambda_errors          = aws_cloudwatch_metric_alarm.lambda_errors.arn
      lambda_throttles       = aws_cloudwatch_metric_alarm.lambda_throttles.arn
      alb_5xx                = aws_cloudwatch_metric_alarm.alb_5xx.arn
      ingest_upstream_errors = aws_cloudwatch_metric_alarm.ingest_upstream_errors.arn
    },
    { for key, alarm in aws_cloudwatch_metric_alarm.target_5xx : "target_5xx/${key}" => alarm.arn },
    { for key, alarm in aws_cloudwatch_metric_alarm.unhealthy_hosts : "unhealthy_hosts/${key}" => alarm.arn },
    { for key, alarm in aws_cloudwatch_metric_alarm.ecs_cpu : "ecs_cpu/${key}" => alarm.arn },
    { for key, alarm in aws_cloudwatch_metric_alarm.ecs_memory : "ecs_memory/${key}" => alarm.arn },
  )
}
