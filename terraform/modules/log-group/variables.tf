variable "name" {
  description = "Name of the log group."
  type        = string
}

variable "region" {
  description = "The group's region (callers know it from an ARN; the aws_region data source's attributes differ between AWS provider 5.x and 6.x)."
  type        = string
}

variable "retention_in_days" {
  description = "Days the log events are kept (a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  type        = number
}

variable "kms_key_arn" {
  description = "An existing KMS key to encrypt the group with (its policy must let CloudWatch Logs use it for this group). Null: a dedicated key is created."
  type        = string
  default     = null
}

variable "key_description" {
  description = "Description of the created key (what its group holds)."
  type        = string
}

variable "key_alias" {
  description = "Alias of the created key, without the alias/ prefix."
  type        = string
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
