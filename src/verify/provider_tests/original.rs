//! Vectors of the first nine providers: published examples where they exist, else computed
//! with python3's `hmac` module (see each comment).

use super::{SLACK_BODY, Vector};

/// The first nine providers' vectors.
pub(super) fn vectors() -> Vec<Vector> {
    vec![
        // python3: hmac.new(b"whsec_test_secret", b"1700000000." + body, sha256).hexdigest()
        Vector {
            provider: "stripe",
            secret: "whsec_test_secret",
            url: "https://hooks.example.com/webhooks/stripe",
            body: br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "Stripe-Signature",
                "t=1700000000,v1=22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
            )],
            identity: ("evt_1", Some("payment_intent.succeeded")),
        },
        // GitHub docs, "Validating webhook deliveries".
        Vector {
            provider: "github",
            secret: "It's a Secret to Everybody",
            url: "https://hooks.example.com/webhooks/github",
            body: b"Hello, World!",
            now: 1_700_000_000,
            sig: 0,
            headers: vec![
                (
                    "X-Hub-Signature-256",
                    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                ),
                ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                ("X-GitHub-Event", "push"),
            ],
            identity: ("72d3162e-cc78-11e3-81ab-4c9367dc0958", Some("push")),
        },
        // python3: base64(hmac.new(b"shpss_secret", body, sha256).digest())
        Vector {
            provider: "shopify",
            secret: "shpss_secret",
            url: "https://hooks.example.com/webhooks/shopify",
            body: br#"{"id":820982911946154508}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![
                (
                    "X-Shopify-Hmac-Sha256",
                    "jqbalbO3Z8mDmrF2/+wzM3KYvbgqzVBF969vgiIy80I=",
                ),
                ("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
                ("X-Shopify-Topic", "orders/create"),
            ],
            identity: ("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Some("orders/create")),
        },
        // Slack docs, "Verifying requests from Slack" (a slash command: form body, so the id is
        // the body's SHA-256: python3 hashlib.sha256(body).hexdigest()).
        Vector {
            provider: "slack",
            secret: "8f742231b10e8888abcd99yyyzzz85a5",
            url: "https://hooks.example.com/webhooks/slack",
            body: SLACK_BODY,
            now: 1_531_420_618,
            sig: 0,
            headers: vec![
                (
                    "X-Slack-Signature",
                    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                ),
                ("X-Slack-Request-Timestamp", "1531420618"),
            ],
            identity: (
                "390eeeff8d0cb7c9f6ecf8a88c3df6452fea0914eb02f64844369f3758d8d330",
                None,
            ),
        },
        // Standard Webhooks / svix test vector.
        Vector {
            provider: "standard-webhooks",
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            url: "https://hooks.example.com/webhooks/svix",
            body: br#"{"test": 2432232314}"#,
            now: 1_614_265_330,
            sig: 0,
            headers: vec![
                (
                    "webhook-signature",
                    "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                ),
                ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                ("webhook-timestamp", "1614265330"),
            ],
            identity: ("msg_p5jXN8AQM9LWM0D4loKWxJek", None),
        },
        // python3: hmac.new(b"rzp_secret", body, sha256).hexdigest()
        Vector {
            provider: "razorpay",
            secret: "rzp_secret",
            url: "https://hooks.example.com/webhooks/razorpay",
            body: br#"{"event":"payment.captured"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![
                (
                    "X-Razorpay-Signature",
                    "0ea09d611215f3d22f53207c37444d3938ba1bd74925b558d3759f86683e48a5",
                ),
                ("X-Razorpay-Event-Id", "JDX1Lnug2Q7l5S"),
            ],
            identity: ("JDX1Lnug2Q7l5S", Some("payment.captured")),
        },
        // python3: hmac.new(b"pdl_ntfset_secret", b"1700000000:" + body, sha256).hexdigest()
        Vector {
            provider: "paddle",
            secret: "pdl_ntfset_secret",
            url: "https://hooks.example.com/webhooks/paddle",
            body: br#"{"event_id":"evt_01","event_type":"transaction.completed"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "Paddle-Signature",
                "ts=1700000000;h1=30fca59b0a1ac6fe4f56ab0bc8a0978e096e8fec99125d7d2344e3eec98e87e2",
            )],
            identity: ("evt_01", Some("transaction.completed")),
        },
        // python3: base64(hmac.new(b"sq_key", url + body, sha256).digest())
        Vector {
            provider: "square",
            secret: "sq_key",
            url: "https://example.com/webhooks/square",
            body: br#"{"event_id":"e1","type":"payment.updated"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "x-square-hmacsha256-signature",
                "uOiAcF88cocobvrxZIhjYiL5nhhLMa6Hl4aQM/pSyYc=",
            )],
            identity: ("e1", Some("payment.updated")),
        },
        // Twilio docs, "Webhooks security" (fields sent unsorted on purpose).
        Vector {
            provider: "twilio",
            secret: "12345",
            url: "https://mycompany.com/myapp.php?foo=1&bar=2",
            body: b"To=%2B18005551212&CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030",
            now: 1_700_000_000,
            sig: 0,
            headers: vec![
                ("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
                ("I-Twilio-Idempotency-Token", "idem-1"),
            ],
            identity: ("idem-1", None),
        },
        // python3: base64(hmac.new(b"12345", url_with_bodySHA256, sha1).digest())
        Vector {
            provider: "twilio",
            secret: "12345",
            url: "https://example.com/hook?bodySHA256=015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862",
            body: br#"{"a":1}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![("X-Twilio-Signature", "2e7mH/NA6FwzvUqLZxhsETU/4bw=")],
            identity: (
                "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862",
                None,
            ),
        },
    ]
}
