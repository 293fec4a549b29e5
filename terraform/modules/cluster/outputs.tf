output "arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "name" {
  description = "Name of the ECS cluster (depends on the capacity providers being attached)."
  value       = aws_ecs_cluster_capacity_providers.this.cluster_name
}

output "id" {
  description = "ID of the ECS cluster (same as its ARN)."
  value       = aws_ecs_cluster.this.id
}

output "execute_command_log_group_arn" {
  description = "ARN of the ECS Exec audit log group; null when ECS Exec auditing is disabled. Pass to the service module's execute_command_audit.log_group_arn."
  value       = try(module.exec_logs[0].arn, null)
}

output "execute_command_log_group_name" {
  description = "Name of the ECS Exec audit log group; null when disabled."
  value       = try(module.exec_logs[0].name, null)
}

output "execute_command_kms_key_arn" {
  description = "ARN of the KMS key encrypting ECS Exec sessions and their logs; null when disabled. Pass to the service module's execute_command_audit.kms_key_arn."
  value       = try(module.exec_logs[0].kms_key_arn, null)
}
