output "url" {
  description = "The site: the web app, and /api/stt/* behind it."
  value       = module.web.url
}

output "queue_name" {
  description = "The segments queue (captionist-<env>-segments)."
  value       = module.queue.name
}

output "dead_letter_queue_name" {
  description = "Where segments that cannot be stored end."
  value       = module.queue.dead_letter_name
}

output "table_name" {
  description = "The conversations table (captionist-<env>-conversations)."
  value       = module.table.name
}

output "web_bucket" {
  description = "Upload web/dist here (docs/deploy.md)."
  value       = module.web.bucket_name
}

output "distribution_id" {
  description = "CloudFront distribution to invalidate after uploading the web app."
  value       = module.web.distribution_id
}

output "alb_dns_name" {
  description = "Point var.domain_name here (a CNAME or an alias record)."
  value       = module.alb.dns_name
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.alarms.topic_arn
}

output "cluster_name" {
  description = "The ECS cluster of the services."
  value       = module.cluster.name
}

output "ecs_services" {
  description = "ECS service name of each service (to force a new deployment)."
  value = merge(
    { for key, service in module.service : key => service.service_name },
    { for service in module.transcribe_local : "transcribe-local" => service.service_name },
  )
}
