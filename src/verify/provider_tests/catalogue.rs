//! One request per provider of the catalogue: providers that sign with a plain HMAC, laid out
//! as their documentation says (linked from each provider file). Where a provider publishes a
//! worked example it is used as published; the others were computed with python3's `hmac`
//! module from the provider's documented signed string, independently of this crate.
//!
//! Zendesk publishes an example whose signature matches body + timestamp, while its formula,
//! its code sample and the integrations in production sign timestamp + body: the formula is
//! what this catalogue follows, so that example is not used.

use super::Vector;

pub(super) fn vectors() -> Vec<Vector> {
    let mut vectors = vec![
        // Svix's "Verifying payloads manually" example, as published.
        Vector {
            provider: "svix",
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            url: "https://hooks.example.com/webhooks/svix",
            body: br#"{"test": 2432232314}"#,
            now: 1_614_265_330,
            sig: 0,
            headers: vec![
                (
                    "svix-signature",
                    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                ),
                ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                ("svix-timestamp", "1614265330"),
            ],
            identity: ("msg_p5jXN8AQM9LWM0D4loKWxJek", None),
        },
    ];
    vectors.extend(computed());
    vectors
}

/// Computed with python3's `hmac` module at unix time 1700000000.
fn computed() -> Vec<Vector> {
    vec![
        Vector {
            provider: "bitbucket",
            secret: "bitbucket-signing-secret",
            url: "https://hooks.example.com/webhooks/bitbucket",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Hub-Signature", "sha256=bfdb1d178b55e33f1fbe2b85944018ea52c05e4b335c04e2e26644413ce1f989"),
                ("X-Request-UUID", "bitbucket-delivery-1"),
                ("X-Event-Key", "repo:push"),
            ],
            identity: ("bitbucket-delivery-1", Some("repo:push")),
        },
        Vector {
            provider: "gitea",
            secret: "gitea-signing-secret",
            url: "https://hooks.example.com/webhooks/gitea",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Gitea-Signature", "06807b741ca9c97bc5ef1130da6c219ace9a5d873621aa18ed2cb4bd56914c36"),
                ("X-Gitea-Delivery", "gitea-delivery-1"),
                ("X-Gitea-Event", "push"),
            ],
            identity: ("gitea-delivery-1", Some("push")),
        },
        Vector {
            provider: "linear",
            secret: "linear-signing-secret",
            url: "https://hooks.example.com/webhooks/linear",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Linear-Signature", "af446fecf920592e1dbc0ac53f23ca4e6a0cdbd5236f0d719e8680c7d732a8c9"),
                ("Linear-Delivery", "linear-delivery-1"),
                ("Linear-Event", "Issue"),
            ],
            identity: ("linear-delivery-1", Some("Issue")),
        },
        Vector {
            provider: "intercom",
            secret: "intercom-signing-secret",
            url: "https://hooks.example.com/webhooks/intercom",
            body: br#"{"id":"intercom_evt_1","topic":"intercom.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Hub-Signature", "sha1=86116b3f8949ba2ebad073cd270ddae25117110f"),
            ],
            identity: ("intercom_evt_1", Some("intercom.event")),
        },
        Vector {
            provider: "typeform",
            secret: "typeform-signing-secret",
            url: "https://hooks.example.com/webhooks/typeform",
            body: br#"{"event_id":"typeform_evt_1","event_type":"typeform.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Typeform-Signature", "sha256=LvSCmZYn4SgdzxHRyxoBLSnus6MMrtBNEjANAzBfoJI="),
            ],
            identity: ("typeform_evt_1", Some("typeform.event")),
        },
        Vector {
            provider: "calendly",
            secret: "calendly-signing-secret",
            url: "https://hooks.example.com/webhooks/calendly",
            body: br#"{"event":"calendly.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Calendly-Webhook-Signature", "t=1700000000,v1=4574f81a0c63c7e82bd64250fd6f31e7bfed9c02e8ce39509a21b5795091dd46"),
            ],
            identity: ("39e5048ea8e46c54296e9c07ae56bc6fe8c85d55699b4099acf9bd4deba1a93d", Some("calendly.event")),
        },
        Vector {
            provider: "woocommerce",
            secret: "woocommerce-signing-secret",
            url: "https://hooks.example.com/webhooks/woocommerce",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-WC-Webhook-Signature", "S8ACmgfHbERk7Bw9qnOqAa7MI7WARTnmJNNBJsIzcPY="),
                ("X-WC-Webhook-Delivery-ID", "woocommerce-delivery-1"),
                ("X-WC-Webhook-Topic", "order.created"),
            ],
            identity: ("woocommerce-delivery-1", Some("order.created")),
        },
        Vector {
            provider: "lemon-squeezy",
            secret: "lemon-squeezy-signing-secret",
            url: "https://hooks.example.com/webhooks/lemon-squeezy",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Signature", "a1152fe40bc2dd7d175984e2c566ce034d9877a2d68224d8a05a0745fc7185f2"),
                ("X-Event-Name", "order_created"),
            ],
            identity: ("b730301be46dedfd745d64ff09ced7399a541f73d076452cf7c2a7cdd5696955", Some("order_created")),
        },
        Vector {
            provider: "coinbase-commerce",
            secret: "coinbase-commerce-signing-secret",
            url: "https://hooks.example.com/webhooks/coinbase-commerce",
            body: br#"{"event":{"id":"coinbase-commerce_evt_1","type":"coinbase-commerce.event"},"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-CC-Webhook-Signature", "bf7761101224c0b6594735952eca62b4aa36f461534c0a9afccf421025aa0910"),
            ],
            identity: ("coinbase-commerce_evt_1", Some("coinbase-commerce.event")),
        },
        Vector {
            provider: "sentry",
            secret: "sentry-signing-secret",
            url: "https://hooks.example.com/webhooks/sentry",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Sentry-Hook-Signature", "c17ac619fab18a90a53c6727001fcb56dca86831e2b31c56668259adb58cf2b3"),
                ("Request-ID", "sentry-delivery-1"),
                ("Sentry-Hook-Resource", "issue"),
            ],
            identity: ("sentry-delivery-1", Some("issue")),
        },
        Vector {
            provider: "circleci",
            secret: "circleci-signing-secret",
            url: "https://hooks.example.com/webhooks/circleci",
            body: br#"{"id":"circleci_evt_1","type":"circleci.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("circleci-signature", "v1=da051fe3106245c9f9a790dd4519762a12d230dc3cb074bc617d51f06be0ebb2"),
            ],
            identity: ("circleci_evt_1", Some("circleci.event")),
        },
        Vector {
            provider: "vercel",
            secret: "vercel-signing-secret",
            url: "https://hooks.example.com/webhooks/vercel",
            body: br#"{"id":"vercel_evt_1","type":"vercel.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-vercel-signature", "03ba0aea51ea190a79a7c1b45f1952490b7c5d8d"),
            ],
            identity: ("vercel_evt_1", Some("vercel.event")),
        },
        Vector {
            provider: "pagerduty",
            secret: "pagerduty-signing-secret",
            url: "https://hooks.example.com/webhooks/pagerduty",
            body: br#"{"event":{"id":"pagerduty_evt_1","event_type":"pagerduty.event"},"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-PagerDuty-Signature", "v1=bd7b1e71ccd192df9bb9d8661f2a254bd85895aeb744843373b5cb43fa64a878"),
            ],
            identity: ("pagerduty_evt_1", Some("pagerduty.event")),
        },
        Vector {
            provider: "checkout",
            secret: "checkout-signing-secret",
            url: "https://hooks.example.com/webhooks/checkout",
            body: br#"{"id":"checkout_evt_1","type":"checkout.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Cko-Signature", "447fe1f38ac5dfe68d538dffe553a866f9ca9205fbfdb7a180dcebdfa1fcca06"),
            ],
            identity: ("checkout_evt_1", Some("checkout.event")),
        },
        Vector {
            provider: "gocardless",
            secret: "gocardless-signing-secret",
            url: "https://hooks.example.com/webhooks/gocardless",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Webhook-Signature", "7ef5bdd82c9d6e58693ccb6e99a7758df996db6d0331553ec39b04dcd8b663e4"),
            ],
            identity: ("b730301be46dedfd745d64ff09ced7399a541f73d076452cf7c2a7cdd5696955", None),
        },
        Vector {
            provider: "paystack",
            secret: "paystack-signing-secret",
            url: "https://hooks.example.com/webhooks/paystack",
            body: br#"{"event":"paystack.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-paystack-signature", "af67267359aeb78d67c3bc8f91c52f70e977a9c7ed488ea0c5de53e70602115aef747de51afab28d41f257b01312aa8e636fd8b2bae338c759d9cbf5e16c3e3a"),
            ],
            identity: ("c01f29dc89d71d67e5782fddd932ee57134e0b71cb2ffc1bd49a5a5819fc0313", Some("paystack.event")),
        },
        Vector {
            provider: "mux",
            secret: "mux-signing-secret",
            url: "https://hooks.example.com/webhooks/mux",
            body: br#"{"id":"mux_evt_1","type":"mux.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Mux-Signature", "t=1700000000,v1=e8720d65f7a71e61a289c51dbf664aeb9629a55edaea5e4123d47febd13e95e5"),
            ],
            identity: ("mux_evt_1", Some("mux.event")),
        },
        Vector {
            provider: "alchemy",
            secret: "alchemy-signing-secret",
            url: "https://hooks.example.com/webhooks/alchemy",
            body: br#"{"id":"alchemy_evt_1","type":"alchemy.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Alchemy-Signature", "30cf2e14db4c18e8430127128f7460216846ffb725202aed09a8c90bd2eb6376"),
            ],
            identity: ("alchemy_evt_1", Some("alchemy.event")),
        },
        Vector {
            provider: "line",
            secret: "line-signing-secret",
            url: "https://hooks.example.com/webhooks/line",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-line-signature", "0UlAXJWV8fUBpxiP8lTPj6bzWqCZpaNCdhYaouMemxU="),
            ],
            identity: ("b730301be46dedfd745d64ff09ced7399a541f73d076452cf7c2a7cdd5696955", None),
        },
        Vector {
            provider: "heroku",
            secret: "heroku-signing-secret",
            url: "https://hooks.example.com/webhooks/heroku",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Heroku-Webhook-Hmac-SHA256", "6k3wuwH6+++C9zF4wdz42BEe5EaSE/b9EJfRX/1FLyw="),
                ("Heroku-Webhook-Id", "heroku-delivery-1"),
            ],
            identity: ("heroku-delivery-1", None),
        },
        Vector {
            provider: "meta",
            secret: "meta-signing-secret",
            url: "https://hooks.example.com/webhooks/meta",
            body: br#"{"object":"meta.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Hub-Signature-256", "sha256=dd6bd0b96238d4ec196335027f8c9d283fae07bb7849589fa8d26afa1ebca4e3"),
            ],
            identity: ("52a701e1e86983d40bee3f4fbdc7ca72e8fa13fa63594a74f03914b8108858d0", Some("meta.event")),
        },
        Vector {
            provider: "dropbox",
            secret: "dropbox-signing-secret",
            url: "https://hooks.example.com/webhooks/dropbox",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Dropbox-Signature", "8283b784203a15231a853662120fbba369d1ef965c7f8c7ed1b91f829066c883"),
            ],
            identity: ("b730301be46dedfd745d64ff09ced7399a541f73d076452cf7c2a7cdd5696955", None),
        },
        Vector {
            provider: "notion",
            secret: "notion-signing-secret",
            url: "https://hooks.example.com/webhooks/notion",
            body: br#"{"id":"notion_evt_1","type":"notion.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Notion-Signature", "sha256=02e2fa7f301010e1b3ebb1d0d97435ae1ae66518ad3fbb0c2bc5068519d4f416"),
            ],
            identity: ("notion_evt_1", Some("notion.event")),
        },
        Vector {
            provider: "zoom",
            secret: "zoom-signing-secret",
            url: "https://hooks.example.com/webhooks/zoom",
            body: br#"{"event":"zoom.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-zm-signature", "v0=a5d2711f01283d160e72a34642d1dddd6e901bc51ff2631cd4de3022a47cb6cb"),
                ("x-zm-request-timestamp", "1700000000"),
            ],
            identity: ("bd6d815bcfa76ec651074b4115d7cc240057b620ecd6be2f8a1e73672fdbc8c2", Some("zoom.event")),
        },
        Vector {
            provider: "twitch",
            secret: "twitch-signing-secret",
            url: "https://hooks.example.com/webhooks/twitch",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Twitch-Eventsub-Message-Signature", "sha256=da8b609a53a6511061003a6c017f1206a59effebfe53f60993ff3794efffa177"),
                ("Twitch-Eventsub-Message-Id", "twitch-delivery-1"),
                ("Twitch-Eventsub-Subscription-Type", "channel.follow"),
                ("Twitch-Eventsub-Message-Timestamp", "2023-11-14T22:13:20Z"),
            ],
            identity: ("twitch-delivery-1", Some("channel.follow")),
        },
        Vector {
            provider: "x",
            secret: "x-signing-secret",
            url: "https://hooks.example.com/webhooks/x",
            body: br#"{"data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-twitter-webhooks-signature", "sha256=pNM2ZayWJtrhhcfFcuzdyPuHUy/wLyi7fuMNUvM4SCI="),
            ],
            identity: ("b730301be46dedfd745d64ff09ced7399a541f73d076452cf7c2a7cdd5696955", None),
        },
        Vector {
            provider: "webflow",
            secret: "webflow-signing-secret",
            url: "https://hooks.example.com/webhooks/webflow",
            body: br#"{"triggerType":"webflow.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("x-webflow-signature", "87302df6fa27c252269dc92ff8f7711e870c8ba0e5a441dff7851b6304b2a8cc"),
                ("x-webflow-timestamp", "1700000000000"),
            ],
            identity: ("00f7d2073d8d346a17f31bf7f1374f050652ab7ceef99d701dfc234a7cd39ced", Some("webflow.event")),
        },
        Vector {
            provider: "zendesk",
            secret: "zendesk-signing-secret",
            url: "https://hooks.example.com/webhooks/zendesk",
            body: br#"{"type":"zendesk.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Zendesk-Webhook-Signature", "Lo524RVwK/WAEhlReRyRkGethzCOH+slISV86H9zJFg="),
                ("X-Zendesk-Webhook-Invocation-Id", "zendesk-delivery-1"),
                ("X-Zendesk-Webhook-Signature-Timestamp", "2023-11-14T22:13:20Z"),
            ],
            identity: ("zendesk-delivery-1", Some("zendesk.event")),
        },
        Vector {
            provider: "mollie",
            secret: "mollie-signing-secret",
            url: "https://hooks.example.com/webhooks/mollie",
            body: br#"{"id":"mollie_evt_1","type":"mollie.event","data":{"amount":4200}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("X-Mollie-Signature", "sha256=0934491dec0bd1a9306f473ba2d343d86632f422ffd7c66c26166764076a22b5"),
            ],
            identity: ("mollie_evt_1", Some("mollie.event")),
        },
        Vector {
            provider: "persona",
            secret: "persona-signing-secret",
            url: "https://hooks.example.com/webhooks/persona",
            body: br#"{"data":{"id":"persona_evt_1","attributes":{"name":"persona.event"}}}"#,
            now: 1700000000,
            sig: 0,
            headers: vec![
                ("Persona-Signature", "t=1700000000,v1=1d012a63466d0d5a1175a9961add117dfbeab72ab16a30e30484c443c3724114"),
            ],
            identity: ("persona_evt_1", Some("persona.event")),
        },
    ]
}
