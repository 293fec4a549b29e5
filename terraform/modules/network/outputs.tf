output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (ALB only), one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (ECS tasks, interface endpoints), one per availability zone."
  value       = aws_subnet.private[*].id
}

output "private_route_table_id" {
  description = "ID of the route table of the private subnets."
  value       = aws_route_table.private.id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (null when egress = \"nat_gateway\")."
  value       = local.use_endpoints ? aws_security_group.endpoints[0].id : null
}

output "nat_public_ip" {
  description = "Public IP of the NAT gateway (null when egress = \"vpc_endpoints\")."
  value       = local.use_nat ? aws_eip.nat[0].public_ip : null
}

output "flow_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs."
  value       = module.flow_logs.name
}
