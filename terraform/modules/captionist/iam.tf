# What each service may do, exactly: the AWS calls its code makes, on its own resources.

data "aws_iam_policy_document" "ingest" {
  source_policy_documents = [data.aws_iam_policy_document.publish_task_load.json]

  statement {
    sid       = "QueueFinals"
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [module.queue.arn]
  }

  # With self-hosted speech, ingest signs with its dedicated key and never calls Transcribe.
  dynamic "statement" {
    for_each = local.self_hosted_speech ? [] : ["amazon-transcribe"]

    content {
      sid     = "StreamToTranscribe"
      actions = ["transcribe:StartStreamTranscriptionWebSocket"]
      # Transcribe streaming has no resource type: the action is authorized on "*".
      resources = ["*"]
    }
  }
}

data "aws_iam_policy_document" "broadcaster" {
  source_policy_documents = [data.aws_iam_policy_document.publish_task_load.json]

  statement {
    sid       = "ReadConversations"
    actions   = ["dynamodb:Query"]
    resources = [module.table.arn]
  }

  statement {
    sid       = "DecryptConversations"
    actions   = ["kms:Decrypt"]
    resources = [module.table.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

# Every service's load per task (captionist_core.task_load), for autoscaling.
data "aws_iam_policy_document" "publish_task_load" {
  statement {
    sid     = "PublishTaskLoad"
    actions = ["cloudwatch:PutMetricData"]
    # PutMetricData has no resource type; the condition keeps it to Captionist's namespace.
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }
}
