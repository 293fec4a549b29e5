# What each service may do, exactly: the AWS calls its code makes, on its own resources.

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "QueueFinals"
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [module.queue.arn]
  }

  statement {
    sid     = "StreamToTranscribe"
    actions = ["transcribe:StartStreamTranscriptionWebSocket"]
    # Transcribe streaming has no resource type: the action is authorized on "*".
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "broadcaster" {
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
