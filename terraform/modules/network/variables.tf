variable "name" {
  description = "Name prefix of every resource (the roots set captionist-<env>)."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC. Must be /20 or larger. The first sixteenth holds the public subnets (/24s for a /16), the following sixteenths the private subnets (/20s for a /16)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.cidr, 12, 0))
    error_message = "cidr must be a valid IPv4 CIDR block of /20 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the subnets over (the ALB needs at least 2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3, 4, 5, 6], var.az_count)
    error_message = "az_count must be a whole number between 2 and 6."
  }
}

variable "egress" {
  description = "How tasks in the private subnets reach AWS APIs: \"vpc_endpoints\" (interface + gateway endpoints, no internet route) or \"nat_gateway\" (one NAT gateway in the first public subnet)."
  type        = string
  default     = "vpc_endpoints"

  validation {
    condition     = contains(["vpc_endpoints", "nat_gateway"], var.egress)
    error_message = "egress must be \"vpc_endpoints\" or \"nat_gateway\"."
  }
}

variable "interface_endpoint_services" {
  description = "Service suffixes (com.amazonaws.<region>.<suffix>) of the interface endpoints created when egress = \"vpc_endpoints\"."
  type        = list(string)
  default     = ["sqs", "logs", "ecr.api", "ecr.dkr", "monitoring", "transcribestreaming"]
}

variable "flow_logs" {
  description = "VPC flow logs to a KMS-encrypted CloudWatch log group. kms_key_arn = null creates a dedicated key (with rotation)."
  type = object({
    retention_in_days = optional(number, 365)
    traffic_type      = optional(string, "ALL")
    kms_key_arn       = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_logs.traffic_type)
    error_message = "flow_logs.traffic_type must be ACCEPT, REJECT or ALL."
  }
}
