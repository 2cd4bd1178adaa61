# Organization-wide, the central account: an event bus to which every member account forwards
# its alarm and finding events (../member), one function that serves them all, and a rule per
# source on that bus. Events keep their own `account`, so the secret's routes send each
# account's alarms to its channel (docs/routing.md, By account); findings go to the default
# channel (routes do not match them by account yet, docs/sources.md).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "organization_id" {
  type        = string
  description = "The AWS Organizations ID (o-...) whose accounts may put events on the bus."
}

variable "secret_arn" {
  type        = string
  description = "Full ARN of the secret, with ROUTES by account (docs/routing.md)."
}

variable "package_file" {
  type        = string
  description = "Path of bootstrap.zip (make zip), or a release's zip checked against SHA256SUMS."
}

resource "aws_cloudwatch_event_bus" "central" {
  name = "alarm-to-slack"
}

# Any principal of the organization may put events here, and nobody else.
data "aws_iam_policy_document" "central" {
  statement {
    sid       = "OrganizationPutEvents"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.central.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "central" {
  event_bus_name = aws_cloudwatch_event_bus.central.name
  policy         = data.aws_iam_policy_document.central.json
}

module "alarm_to_slack" {
  source = "../../.."

  package_file   = var.package_file
  secret_arn     = var.secret_arn
  create_topic   = false
  event_bus_name = aws_cloudwatch_event_bus.central.name
  event_sources = {
    "aws.cloudwatch"  = true
    "aws.guardduty"   = true
    "aws.securityhub" = true
  }
  # Many accounts, one function: more room before Lambda throttles.
  reserved_concurrency = 5
}

output "central_bus_arn" {
  description = "The member accounts' forwarding target (../member, central_bus_arn)."
  value       = aws_cloudwatch_event_bus.central.arn
}
