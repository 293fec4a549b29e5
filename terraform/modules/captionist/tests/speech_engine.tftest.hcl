# Plans the whole system once per speech engine, with no AWS account: the few AWS calls a plan
# makes go to the local emulator (moto server), and the CloudFront and prefix-list lookups it cannot
# answer are overridden. From terraform/modules/captionist, with the
# hashicorp/aws provider installable (`make test` cannot download it; tests/infra checks the rest):
#   uv run moto_server -p 5000 &
#   terraform init -backend=false && terraform test -var 'emulator="http://127.0.0.1:5000"'

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  # The emulator answers the calls a plan makes: who am I, which zones, a random password.
  endpoints {
    ec2            = var.emulator
    secretsmanager = var.emulator
    sts            = var.emulator
  }
}

override_data {
  target = module.alb.data.aws_ec2_managed_prefix_list.cloudfront
  values = { id = "pl-4fa04526" }
}

override_data {
  target = module.web.data.aws_cloudfront_cache_policy.caching_disabled
  values = { id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" }
}

override_data {
  target = module.web.data.aws_cloudfront_cache_policy.caching_optimized
  values = { id = "658327ea-f89d-4fab-a63d-7e88639e58f6" }
}

override_data {
  target = module.web.data.aws_cloudfront_origin_request_policy.all_viewer_except_host
  values = { id = "b689b0a8-53d0-40ab-baf2-68738e2966ac" }
}

variables {
  environment = "test"
  images = {
    ingest           = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/captionist-ingest:1"
    broadcaster      = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/captionist-broadcaster:1"
    transcribe_local = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/captionist-transcribe-local:1"
  }
  domain_name     = "origin.example.com"
  certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  origin_secret   = "0123456789abcdef0123456789abcdef"
  # A plan only hashes the package: any file will do.
  processor_package = "tests/speech_engine.tftest.hcl"
}

run "amazon_transcribe" {
  command = plan

  assert {
    condition     = length(module.transcribe_local) == 0 && length(aws_secretsmanager_secret.signing_key) == 0
    error_message = "Amazon Transcribe needs no self-hosted speech service and no signing key."
  }

  assert {
    condition     = !contains(keys(local.services.ingest.environment), "CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT")
    error_message = "ingest must use Amazon Transcribe's own endpoint."
  }

  assert {
    condition     = contains(local.services.ingest.egress_tcp_ports, 8443)
    error_message = "ingest must reach Transcribe streaming on 8443."
  }

  assert {
    condition     = contains(local.interface_endpoint_services, "transcribestreaming")
    error_message = "the transcribestreaming endpoint is needed."
  }
}

run "self_hosted_speech" {
  command = plan

  variables {
    speech_engine = "transcribe-local"
    transcribe_local = {
      min = 1
      max = 4
      schedule = {
        workday = { schedule = "cron(0 8 ? * MON-FRI *)", timezone = "Europe/Berlin", min = 4, max = 8 }
        night   = { schedule = "cron(0 19 ? * MON-FRI *)", timezone = "Europe/Berlin", min = 1, max = 4 }
      }
    }
  }

  # Known at plan time, so that the service module's input checks can judge it.
  override_resource {
    target          = aws_secretsmanager_secret_version.signing_key
    override_during = plan
    values          = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:captionist-test/transcribe-local-signing-key-AbCdEf" }
  }

  assert {
    condition     = length(module.transcribe_local) == 1
    error_message = "transcribe-local must be deployed."
  }

  assert {
    condition     = module.transcribe_local[0].discovery_fqdn == "captionist-test-transcribe-local.captionist-test.local"
    error_message = "ingest's endpoint and transcribe-local's name differ."
  }

  assert {
    condition     = local.services.ingest.environment.CAPTIONIST_INGEST_TRANSCRIBE_ENDPOINT == "http://captionist-test-transcribe-local.captionist-test.local:8080"
    error_message = "ingest must connect to transcribe-local."
  }

  assert {
    condition     = !contains(local.services.ingest.egress_tcp_ports, 8443) && !contains(local.interface_endpoint_services, "transcribestreaming")
    error_message = "self-hosted speech needs no path to Amazon Transcribe."
  }

  assert {
    condition     = length(local.services.ingest.secrets_kms_key_arns) == 1 && length(local.services.broadcaster.secrets_kms_key_arns) == 0
    error_message = "only ingest (of the two) may decrypt the signing key."
  }

  assert {
    condition     = contains(local.interface_endpoint_services, "secretsmanager")
    error_message = "tasks must reach Secrets Manager for the signing key."
  }

  assert {
    condition     = toset(module.transcribe_local[0].scheduled_action_names) == toset(["captionist-test-transcribe-local-workday", "captionist-test-transcribe-local-night"])
    error_message = "the business-hours schedule must become scheduled actions."
  }

  assert {
    condition     = local.transcribe_local_vcpus == 2
    error_message = "a 2-vCPU task runs two engine threads."
  }
}

run "self_hosted_speech_needs_its_image" {
  command = plan

  variables {
    speech_engine = "transcribe-local"
    images = {
      ingest      = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/captionist-ingest:1"
      broadcaster = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/captionist-broadcaster:1"
    }
  }

  expect_failures = [var.images]
}
