# Organization-wide, each member account (apply once per account, or through a StackSet of the
# same resources): a rule on the default bus that forwards alarm state changes and GuardDuty
# and Security Hub findings to the central bus (../central), with a role EventBridge uses to
# put them there.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "central_bus_arn" {
  type        = string
  description = "The central account's bus, its central_bus_arn output."
}

resource "aws_cloudwatch_event_rule" "forward" {
  name        = "alarm-to-slack-forward"
  description = "Alarm and finding events to the central alarm-to-slack bus"
  event_pattern = jsonencode({
    source = ["aws.cloudwatch", "aws.guardduty", "aws.securityhub"]
    "detail-type" = [
      "CloudWatch Alarm State Change",
      "GuardDuty Finding",
      "Security Hub Findings - Imported",
    ]
  })
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "forward" {
  name_prefix        = "alarm-to-slack-forward-"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

# The one thing the role may do: put events on the central bus.
data "aws_iam_policy_document" "forward" {
  statement {
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.central_bus_arn]
  }
}

resource "aws_iam_role_policy" "forward" {
  name   = "put-events-on-central-bus"
  role   = aws_iam_role.forward.id
  policy = data.aws_iam_policy_document.forward.json
}

resource "aws_cloudwatch_event_target" "forward" {
  rule     = aws_cloudwatch_event_rule.forward.name
  arn      = var.central_bus_arn
  role_arn = aws_iam_role.forward.arn
}
