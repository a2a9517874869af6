//! `SIGHUP`: the listeners read their certificate files again and the transforms their
//! scripts, without a restart. Whatever fails to load keeps its previous version, and says why.

use crate::tls::reload::CertificateReloader;
use crate::transform::Transforms;
use std::sync::Arc;
use tokio::signal::unix::Signal;

/// Everything `SIGHUP` reloads.
#[derive(Clone)]
pub struct Reloader {
    pub certificates: CertificateReloader,
    pub transforms: Arc<Transforms>,
}

impl Reloader {
    /// Reloads certificates and transform scripts, logging each failure.
    pub fn reload(&self) {
        self.certificates.reload_all();
        for kept in self.transforms.reload() {
            tracing::error!("transform {kept}");
        }
    }

    /// Reloads on every signal `hangups` receives, for as long as the process runs.
    pub async fn reload_on(self, mut hangups: Signal) {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading listener certificates and transforms");
            self.reload();
        }
    }
}
