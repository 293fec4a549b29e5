output "url" {
  description = "The site: the web app, and /api/stt/* behind it."
  value       = module.captionist.url
}

output "queue_name" {
  description = "The segments queue (captionist-<env>-segments)."
  value       = module.captionist.queue_name
}

output "table_name" {
  description = "The conversations table (captionist-<env>-conversations)."
  value       = module.captionist.table_name
}

output "deploy" {
  description = "Where the web app goes and what to invalidate, where the API's DNS name points, the alarm topic, the ECS services to redeploy (docs/deploy.md)."
  value = {
    web_bucket      = module.captionist.web_bucket
    distribution_id = module.captionist.distribution_id
    alb_dns_name    = module.captionist.alb_dns_name
    alarm_topic_arn = module.captionist.alarm_topic_arn
    cluster_name    = module.captionist.cluster_name
    ecs_services    = module.captionist.ecs_services
  }
}
