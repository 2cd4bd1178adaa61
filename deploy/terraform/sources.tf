# What invokes the function: SNS topics (directly, or through the buffer queue) and EventBridge
# rules, one per source that event_sources turns on.

locals {
  create_topic = var.create_topic != null ? var.create_topic : length(var.topic_arns) == 0

  # Keyed by something known at plan time (the given ARN, or "created"), so that for_each works
  # before the new topic has an ARN, and removing one topic leaves the others' subscriptions be.
  topics = merge(
    { for arn in var.topic_arns : arn => arn },
    local.create_topic ? { created = aws_sns_topic.alarms[0].arn } : {},
  )

  event_sources = toset([for source, on in var.event_sources : source if on])
}

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarm actions cannot publish to a topic encrypted with the AWS managed key aws/sns; a customer managed key with a policy for cloudwatch.amazonaws.com is the user's to bring (topic_arns)
  count        = local.create_topic ? 1 : 0
  name         = "${var.function_name}-alarms"
  display_name = "CloudWatch alarms to Slack"
  tags         = var.tags
}

# --- Direct: topic -> function -------------------------------------------------------------

resource "aws_lambda_permission" "sns" {
  for_each      = var.buffer_queue ? {} : local.topics
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = each.value
}

resource "aws_sns_topic_subscription" "function" {
  for_each  = var.buffer_queue ? {} : local.topics
  topic_arn = each.value
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this.arn

  depends_on = [aws_lambda_permission.sns]
}

# --- buffer_queue: topic -> queue -> function, in batches ----------------------------------
# A record that keeps failing lands in the buffer's own dead-letter queue after 5 receives (SNS
# envelopes, unlike the failure queue's Lambda destination records). The visibility timeout is
# six times the function's, as Lambda's SQS guide advises, so a batch in progress is not handed
# out twice.

resource "aws_sqs_queue" "buffer_dead_letters" {
  count                     = var.buffer_queue ? 1 : 0
  name                      = "${var.function_name}-buffer-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "buffer" {
  count                      = var.buffer_queue ? 1 : 0
  name                       = "${var.function_name}-buffer"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 1209600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.buffer_dead_letters[0].arn
    maxReceiveCount     = 5
  })
  tags = var.tags
}

# Only the subscribed topics may send to the buffer.
data "aws_iam_policy_document" "buffer" {
  count = var.buffer_queue ? 1 : 0
  statement {
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.buffer[0].arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = values(local.topics)
    }
  }
}

resource "aws_sqs_queue_policy" "buffer" {
  count     = var.buffer_queue ? 1 : 0
  queue_url = aws_sqs_queue.buffer[0].id
  policy    = data.aws_iam_policy_document.buffer[0].json
}

resource "aws_sns_topic_subscription" "buffer" {
  for_each  = var.buffer_queue ? local.topics : {}
  topic_arn = each.value
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.buffer[0].arn

  depends_on = [aws_sqs_queue_policy.buffer]
}

resource "aws_lambda_event_source_mapping" "buffer" {
  count                              = var.buffer_queue ? 1 : 0
  event_source_arn                   = aws_sqs_queue.buffer[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 5
  # Each record answered on its own: only the failed ones come back (batchItemFailures).
  function_response_types = ["ReportBatchItemFailures"]

  # Lambda checks at creation that the role may read the queue.
  depends_on = [aws_iam_role_policy.read_alarm_buffer]
}

# --- EventBridge: one rule per source, on event_bus_name -----------------------------------
# Every event of the source: the function posts what it knows as its own card and any other as
# the generic card (docs/sources.md). The rule invokes asynchronously, so Lambda's retries and
# the failure queue apply as for SNS.

resource "aws_cloudwatch_event_rule" "source" {
  for_each       = local.event_sources
  name           = substr("${var.function_name}-${replace(each.key, "/[^a-zA-Z0-9_-]/", "-")}", 0, 64)
  description    = "${each.key} events to ${var.function_name}"
  event_bus_name = var.event_bus_name
  event_pattern  = jsonencode({ source = [each.key] })
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "source" {
  for_each       = local.event_sources
  rule           = aws_cloudwatch_event_rule.source[each.key].name
  event_bus_name = var.event_bus_name
  arn            = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "events" {
  for_each      = local.event_sources
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.source[each.key].arn
}
