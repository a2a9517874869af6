//! Where a signing certificate may come from. AWS SNS and PayPal name the certificate's URL in
//! the request itself, so a forger could name their own: the URL must be on the provider's
//! hosts (or the source's `allowed_cert_urls`) before anything is fetched.

use url::Url;

use super::Rejection;

/// Longer URLs are refused unparsed; real certificate URLs are under 200 characters.
const MAX_URL_LEN: usize = 2048;

/// The hosts a provider serves its signing certificates from, used when a source lists no
/// `allowed_cert_urls`. Both require https on the default port, without userinfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CertHosts {
    /// `https://sns.<region>.amazonaws.com[.cn]/<name>.pem`
    AwsSns,
    /// `https://` `api`, `api-m`, `api.sandbox` or `api-m.sandbox` `.paypal.com/…`
    Paypal,
}

const PAYPAL_HOSTS: [&str; 4] = [
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
];

impl CertHosts {
    fn allow(self, url: &Url) -> bool {
        if url.scheme() != "https" || url.port().is_some() || url.query().is_some() {
            return false;
        }
        let Some(url::Host::Domain(host)) = url.host() else {
            return false;
        };
        match self {
            CertHosts::AwsSns => is_sns_host(host) && url.path().ends_with(".pem"),
            CertHosts::Paypal => PAYPAL_HOSTS.contains(&host),
        }
    }
}

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, the region being one label
/// of lowercase letters, digits and dashes.
fn is_sns_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("sns.") else {
        return false;
    };
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    region.is_some_and(|region| {
        !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// The certificate URL as it will be fetched, when `raw` is allowed: by `prefixes` (the
/// source's `allowed_cert_urls`, matched against the normalised URL) when any are set, else by
/// the provider's `hosts`. A URL with userinfo or a fragment is never allowed.
pub(super) fn allowed(raw: &str, hosts: CertHosts, prefixes: &[String]) -> Result<Url, Rejection> {
    if raw.len() > MAX_URL_LEN {
        return Err(Rejection::CertificateUrlRefused);
    }
    let url = Url::parse(raw).map_err(|_| Rejection::CertificateUrlRefused)?;
    let plain = url.username().is_empty() && url.password().is_none() && url.fragment().is_none();
    let listed = if prefixes.is_empty() {
        hosts.allow(&url)
    } else {
        prefixes
            .iter()
            .any(|prefix| url.as_str().starts_with(prefix.as_str()))
    };
    if plain && listed {
        Ok(url)
    } else {
        Err(Rejection::CertificateUrlRefused)
    }
}

/// An SNS `SubscribeURL`, when it may be fetched to confirm a subscription: https on an SNS host
/// (any path and query: it is SNS's `ConfirmSubscription` action), or under one of `prefixes`
/// (the source's `allowed_cert_urls`) when any are set; never with userinfo, a port or a fragment.
pub(super) fn allowed_subscribe_url(raw: &str, prefixes: &[String]) -> Option<Url> {
    let url = Url::parse(raw).ok().filter(|_| raw.len() <= MAX_URL_LEN)?;
    let plain = url.username().is_empty() && url.password().is_none() && url.fragment().is_none();
    let listed = if prefixes.is_empty() {
        let sns_host = matches!(url.host(), Some(url::Host::Domain(host)) if is_sns_host(host));
        url.scheme() == "https" && url.port().is_none() && sns_host
    } else {
        prefixes
            .iter()
            .any(|prefix| url.as_str().starts_with(prefix.as_str()))
    };
    (plain && listed).then_some(url)
}

/// Checks `allowed_cert_urls`: each entry an http(s) URL without userinfo, query or fragment,
/// written as it normalises (so `https://host` must be `https://host/`: a prefix always ends
/// the host, and `https://certs.example.com` cannot also admit `certs.example.com.evil`).
pub(super) fn check_prefixes(prefixes: &[String]) -> Result<(), (&'static str, String)> {
    for prefix in prefixes {
        let why = match Url::parse(prefix) {
            Err(error) => Some(format!("{prefix:?} is not a URL: {error}")),
            Ok(url) if !matches!(url.scheme(), "http" | "https") || url.host().is_none() => {
                Some(format!("{prefix:?} must be an http:// or https:// URL"))
            }
            Ok(url)
                if !url.username().is_empty()
                    || url.password().is_some()
                    || url.query().is_some()
                    || url.fragment().is_some() =>
            {
                Some(format!(
                    "{prefix:?} must not have userinfo, a query or a fragment"
                ))
            }
            Ok(url) if url.as_str() != prefix => Some(format!(
                "{prefix:?} must be written as it normalises: {:?}",
                url.as_str()
            )),
            Ok(_) => None,
        };
        if let Some(why) = why {
            return Err(("allowed_cert_urls", why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sns(url: &str) -> Result<Url, Rejection> {
        allowed(url, CertHosts::AwsSns, &[])
    }

    #[test]
    fn sns_default_hosts() {
        for good in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-3250158c6b7c2ffa6df98fb5e0d5f31a.pem",
            "https://SNS.EU-WEST-1.AMAZONAWS.COM/x.pem",
            "https://sns.us-east-1.amazonaws.com:443/x.pem",
        ] {
            assert!(sns(good).is_ok(), "{good}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.crt",
            "https://sns.us-east-1.amazonaws.com/x.pem?a=b",
            "https://sns.us-east-1.amazonaws.com/x.pem#f",
            "https://sns.us-east-1.amazonaws.com:8443/x.pem",
            "https://sns.evil.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
            "https://user:pw@sns.us-east-1.amazonaws.com/x.pem",
            "https://sns..amazonaws.com/x.pem",
            "https://sns.a.b.amazonaws.com/x.pem",
            "https://s3.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com./x.pem",
            "https://52.94.0.1/x.pem",
            "not a url",
            "",
        ] {
            assert_eq!(sns(bad), Err(Rejection::CertificateUrlRefused), "{bad}");
        }
        let huge = format!(
            "https://sns.us-east-1.amazonaws.com/{}.pem",
            "a".repeat(5000)
        );
        assert_eq!(sns(&huge), Err(Rejection::CertificateUrlRefused));
    }

    #[test]
    fn paypal_default_hosts() {
        let paypal = |url: &str| allowed(url, CertHosts::Paypal, &[]);
        for host in PAYPAL_HOSTS {
            let url =
                format!("https://{host}/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270");
            assert!(paypal(&url).is_ok(), "{url}");
        }
        for bad in [
            "http://api.paypal.com/v1/notifications/certs/CERT-1",
            "https://paypal.com/v1/notifications/certs/CERT-1",
            "https://api.paypal.com.evil.com/CERT-1",
            "https://api.paypal.com@evil.com/CERT-1",
            "https://evil.api.paypal.com/CERT-1",
        ] {
            assert_eq!(paypal(bad), Err(Rejection::CertificateUrlRefused), "{bad}");
        }
    }

    #[test]
    fn prefixes_replace_the_default() {
        let prefixes = ["http://127.0.0.1:8081/certs/".to_string()];
        let local = |url: &str| allowed(url, CertHosts::AwsSns, &prefixes);
        assert!(local("http://127.0.0.1:8081/certs/a.pem").is_ok());
        assert_eq!(
            local("https://sns.us-east-1.amazonaws.com/x.pem"),
            Err(Rejection::CertificateUrlRefused)
        );
        // Matched after normalisation: `..` cannot climb out of the prefix.
        assert_eq!(
            local("http://127.0.0.1:8081/certs/../other.pem"),
            Err(Rejection::CertificateUrlRefused)
        );
        assert_eq!(
            local("http://x@127.0.0.1:8081/certs/a.pem"),
            Err(Rejection::CertificateUrlRefused)
        );
    }

    #[test]
    fn prefixes_are_checked() {
        let check = |prefix: &str| check_prefixes(&[prefix.to_string()]);
        assert!(check("https://certs.example.com/").is_ok());
        assert!(check("http://127.0.0.1:8081/certs/").is_ok());
        for bad in [
            "https://certs.example.com",
            "ftp://certs.example.com/",
            "https://u@certs.example.com/",
            "https://certs.example.com/?a",
            "certs.example.com/",
            "HTTPS://certs.example.com/",
        ] {
            let (key, why) = check(bad).unwrap_err();
            assert_eq!(key, "allowed_cert_urls");
            assert!(why.starts_with(&format!("{bad:?}")), "{why}");
        }
    }

    #[test]
    fn subscribe_urls_are_fetched_only_from_sns_hosts_or_the_listed_prefixes() {
        let confirm = "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=ab";
        let allowed =
            |url: &str, prefixes: &[String]| allowed_subscribe_url(url, prefixes).is_some();
        assert!(allowed(
            &format!("https://sns.us-east-1.amazonaws.com{confirm}"),
            &[]
        ));
        assert!(allowed(
            &format!("https://sns.cn-north-1.amazonaws.com.cn{confirm}"),
            &[]
        ));
        for refused in [
            format!("http://sns.us-east-1.amazonaws.com{confirm}"),
            format!("https://sns.us-east-1.amazonaws.com:8443{confirm}"),
            format!("https://sns.us-east-1.amazonaws.com.evil.com{confirm}"),
            format!("https://sns.us-east-1.amazonaws.com@evil.com{confirm}"),
            format!("https://evil.com{confirm}"),
            "not a url".to_string(),
        ] {
            assert!(!allowed(&refused, &[]), "{refused}");
        }
        let local = ["http://127.0.0.1:9000/".to_string()];
        assert!(allowed(&format!("http://127.0.0.1:9000{confirm}"), &local));
        assert!(!allowed(
            &format!("https://sns.us-east-1.amazonaws.com{confirm}"),
            &local
        ));
    }
}
