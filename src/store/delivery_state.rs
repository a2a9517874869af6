//! The states a delivery moves through.

/// Where a delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its `run_at` (a first attempt or a retry).
    Pending,
    /// Claimed by a worker, attempt under way.
    InFlight,
    /// A 2xx came back.
    Delivered,
    /// Given up on: a final 4xx or attempts exhausted.
    Dead,
    /// Not delivered by choice: the connection's transform returned `null`.
    Filtered,
}

impl DeliveryState {
    /// The value stored in `deliveries.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::InFlight => "in_flight",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
            DeliveryState::Filtered => "filtered",
        }
    }
}
