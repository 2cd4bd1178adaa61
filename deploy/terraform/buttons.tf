# enable_buttons: Slack's clicks reach the function here. Authorization NONE: Slack signs its
# requests with the app's signing secret, not SigV4, so IAM cannot tell Slack from anyone else;
# the function refuses every request whose X-Slack-Signature does not verify, and checks that
# before it parses the body.

resource "aws_lambda_function_url" "buttons" {
  #checkov:skip=CKV_AWS_258:Slack cannot sign with SigV4; the function verifies Slack's request signature before anything else, and the URL exists only with enable_buttons
  count              = local.buttons_on ? 1 : 0
  function_name      = aws_lambda_function.this.function_name
  authorization_type = "NONE"
  # The runtime posts one whole answer (the 200 Slack waits for), then carries the click out;
  # BUFFERED hands that answer on as soon as it is posted.
  invoke_mode = "BUFFERED"
}

# A public URL needs both statements in the function's policy: InvokeFunctionUrl for the URL
# itself, and (for URLs created since October 2025) InvokeFunction, limited to calls that come
# through a function URL, so that "*" cannot invoke the function any other way.
resource "aws_lambda_permission" "buttons_url_public_access" {
  #checkov:skip=CKV_AWS_301:public only through the Function URL with authorization NONE (function_url_auth_type), which Slack's clicks need; the function verifies Slack's signature
  count                  = local.buttons_on ? 1 : 0
  statement_id           = "ButtonsUrlPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "buttons_url_invoke" {
  #checkov:skip=CKV_AWS_301:limited to calls through a function URL (invoked_via_function_url), which AWS requires beside InvokeFunctionUrl for a public URL
  count                    = local.buttons_on ? 1 : 0
  statement_id             = "ButtonsUrlInvoke"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this.function_name
  principal                = "*"
  invoked_via_function_url = true
}
