# The function's role: the same statements as template.yaml's FunctionRole, policy for policy
# (one aws_iam_role_policy per inline policy there, same names), with the same conditions.
# tests/terraform-check.py fails when the actions or condition keys differ. Nothing else:
# read the one secret (and decrypt it, only with a customer managed key, only through Secrets
# Manager), write its own log group, hand failed events to its own queue, and what the options
# add.

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    # Only Lambda acting for this account may assume the role (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  # name_prefix is at most 38 characters; a function name is up to 64.
  name_prefix        = substr("${var.function_name}-", 0, 38)
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "read_slack_secret" {
  statement {
    sid       = "ReadSlackSecret"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.secret_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "DecryptSlackSecret"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "read_slack_secret" {
  name   = "read-slack-secret"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.read_slack_secret.json
}

data "aws_iam_policy_document" "write_own_logs" {
  statement {
    effect  = "Allow"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # The template's !GetAtt LogGroup.Arn ends in ":*" (the group's streams); the provider's
    # arn attribute does not, so it is added here for the same grant.
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "write_own_logs" {
  name   = "write-own-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.write_own_logs.json
}

# metric_graph: these two actions take no resource-level scoping (CloudWatch's authorization
# reference lists no resource type for them), so "*" is the narrowest grant there is.
data "aws_iam_policy_document" "read_alarm_metrics" {
  count = var.metric_graph == "off" ? 0 : 1
  statement {
    effect    = "Allow"
    actions   = var.metric_graph == "image" ? ["cloudwatch:GetMetricData", "cloudwatch:GetMetricWidgetImage"] : ["cloudwatch:GetMetricData"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "read_alarm_metrics" {
  count  = var.metric_graph == "off" ? 0 : 1
  name   = "read-alarm-metrics"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.read_alarm_metrics[0].json
}

# mute_cloudwatch: the function's own mute rules (named alarm-to-slack-...), which must also be
# allowed on each alarm they target (CloudWatch's API reference).
data "aws_iam_policy_document" "mute_alarms" {
  count = local.mute_rules ? 1 : 0
  statement {
    effect    = "Allow"
    actions   = ["cloudwatch:PutAlarmMuteRule", "cloudwatch:DeleteAlarmMuteRule"]
    resources = ["arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:alarm-mute-rule:alarm-to-slack-*"]
  }
  statement {
    effect    = "Allow"
    actions   = ["cloudwatch:PutAlarmMuteRule"]
    resources = ["arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:alarm:*"]
  }
}

resource "aws_iam_role_policy" "mute_alarms" {
  count  = local.mute_rules ? 1 : 0
  name   = "mute-alarms"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.mute_alarms[0].json
}

# buffer_queue: what an SQS event source mapping needs, on the buffer alone.
data "aws_iam_policy_document" "read_alarm_buffer" {
  count = var.buffer_queue ? 1 : 0
  statement {
    effect    = "Allow"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.buffer[0].arn]
  }
}

resource "aws_iam_role_policy" "read_alarm_buffer" {
  count  = var.buffer_queue ? 1 : 0
  name   = "read-alarm-buffer"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.read_alarm_buffer[0].json
}

data "aws_iam_policy_document" "send_failed_events" {
  statement {
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role_policy" "send_failed_events" {
  name   = "send-failed-events"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.send_failed_events.json
}

# incident_table: every write is a conditional UpdateItem: no PutItem, no DeleteItem.
data "aws_iam_policy_document" "keep_incidents" {
  count = var.incident_table ? 1 : 0
  statement {
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.incidents[0].arn]
  }
}

resource "aws_iam_role_policy" "keep_incidents" {
  count  = var.incident_table ? 1 : 0
  name   = "keep-incidents"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.keep_incidents[0].json
}
