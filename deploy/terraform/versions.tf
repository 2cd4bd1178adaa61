# Terraform 1.5 and OpenTofu 1.6 both read this module: it uses nothing newer than lifecycle
# preconditions and terraform_data (Terraform 1.4). The AWS provider must know
# aws_lambda_permission's invoked_via_function_url (6.28), which the buttons' second
# Function URL statement needs, as template.yaml's ButtonsUrlInvoke does.
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}
