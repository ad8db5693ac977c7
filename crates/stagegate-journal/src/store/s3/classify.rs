//! Which S3 failures another attempt can fix. Timeouts, dropped connections,
//! 5xx and throttling (`SlowDown`, 429) are transient; a refused signature,
//! denied access or a bucket that does not exist stay so however often the
//! request goes again, so they fail at once with what to check.

const CREDENTIALS: &str = "S3 did not accept the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the OIDC role, and that a session token has not expired";
const DENIED: &str = "the credentials may not do this: check the IAM policy of the role or user (s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the bucket and prefix of journal.store)";
const BUCKET: &str = "check the bucket of journal.store (s3://BUCKET/PREFIX), journal.s3.region and the endpoint (AWS_ENDPOINT_URL or journal.s3.endpoint)";

/// For a failure that is not worth another attempt, the help to show; `None`
/// for one that may pass when tried again (or that is not understood).
pub fn permanent(status: Option<u16>, code: Option<&str>) -> Option<&'static str> {
    match code {
        Some(
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidToken" | "TokenRefreshRequired",
        ) => Some(CREDENTIALS),
        Some("AccessDenied" | "AllAccessDisabled" | "AccountProblem" | "InvalidObjectState") => Some(DENIED),
        Some("NoSuchBucket" | "InvalidBucketName" | "PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            Some(BUCKET)
        }
        // Throttling, timeouts and server faults, whatever the status says.
        Some("SlowDown" | "RequestTimeout" | "Throttling" | "ThrottlingException" | "InternalError") => None,
        _ => match status {
            Some(401) => Some(CREDENTIALS),
            Some(403) => Some(DENIED),
            Some(301) => Some(BUCKET),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::permanent;

    #[test]
    fn transient_failures_are_retried() {
        for (status, code) in [
            (Some(500), Some("InternalError")),
            (Some(503), Some("SlowDown")),
            (Some(429), None),
            (Some(400), Some("RequestTimeout")),
            (Some(502), None),
            (None, None),
        ] {
            assert_eq!(permanent(status, code), None, "{status:?} {code:?}");
        }
    }

    #[test]
    fn refusals_and_misconfiguration_are_not() {
        assert!(permanent(Some(403), Some("AccessDenied")).unwrap().contains("IAM policy"));
        assert!(permanent(Some(403), None).unwrap().contains("IAM policy"));
        assert!(permanent(Some(403), Some("SignatureDoesNotMatch")).unwrap().contains("AWS_SECRET_ACCESS_KEY"));
        assert!(permanent(Some(403), Some("InvalidAccessKeyId")).unwrap().contains("AWS_ACCESS_KEY_ID"));
        assert!(permanent(Some(404), Some("NoSuchBucket")).unwrap().contains("bucket"));
        assert!(permanent(Some(301), None).unwrap().contains("region"));
    }

    #[test]
    fn a_missing_key_is_not_a_misconfiguration() {
        // A 404 without S3's code (HEAD has no body) may be a missing object.
        assert_eq!(permanent(Some(404), None), None);
        assert_eq!(permanent(Some(404), Some("NoSuchKey")), None);
    }
}
