output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = aws_ecs_service.this.id
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "container_name" {
  description = "Name of the container in the task definition (the one registered in the target group)."
  value       = local.container_name
}

output "task_role_arn" {
  description = "ARN of the task role (the application's permissions)."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the task role, to attach more policies from the root."
  value       = aws_iam_role.task.name
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = aws_iam_role.execution.arn
}

output "security_group_id" {
  description = "ID of the tasks' security group (reference it to let the tasks reach another service)."
  value       = aws_security_group.this.id
}

output "log_group_name" {
  description = "Name of the container log group."
  value       = module.logs.name
}

output "log_group_arn" {
  description = "ARN of the container log group."
  value       = module.logs.arn
}

output "log_kms_key_arn" {
  description = "ARN of the KMS key encrypting the log group (created or given)."
  value       = module.logs.kms_key_arn
}

output "discovery_name" {
  description = "Cloud Map service name (the DNS label under the namespace); null without service_discovery."
  value       = try(aws_service_discovery_service.this[0].name, null)
}

output "discovery_fqdn" {
  description = "DNS name the tasks answer at, <name>.<namespace_name>; null without service_discovery or its namespace_name."
  value       = try(format("%s.%s", var.name, var.service_discovery.namespace_name), null)
}

output "discovery_service_arn" {
  description = "ARN of the Cloud Map service; null without service_discovery."
  value       = try(aws_service_discovery_service.this[0].arn, null)
}

output "autoscaling_target_resource_id" {
  description = "Application Auto Scaling resource ID (service/<cluster>/<service>), for extra scaling policies."
  value       = aws_appautoscaling_target.this.resource_id
}

output "scheduled_action_names" {
  description = "Names of the scheduled autoscaling actions (scheduled_capacity)."
  value       = [for action in aws_appautoscaling_scheduled_action.this : action.name]
}
