//! [`TimberFilter`]: what a [`TimberLayer`](crate::TimberLayer) wants, as a
//! per-layer filter or as the layer's own interest.

use timber_core::integration::IgnoredTargets;
use timber_core::Level;
use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

/// The rules of a [`TimberLayer`](crate::TimberLayer) as a per-layer filter
/// ([`tracing_subscriber::layer::Filter`]): events and spans below the
/// client's `min_level`, or of an ignored target, are disabled for the
/// layer only. See [`TimberLayer::filtered`](crate::TimberLayer::filtered).
#[derive(Clone, Debug)]
pub struct TimberFilter {
    pub(crate) min_level: Level,
    pub(crate) ignored: IgnoredTargets,
}

impl TimberFilter {
    pub(crate) fn wants(&self, metadata: &Metadata<'_>) -> bool {
        level_of(metadata.level()) >= self.min_level && !self.ignored.matches(metadata.target())
    }

    pub(crate) fn interest(&self, metadata: &Metadata<'_>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    pub(crate) fn level_hint(&self) -> LevelFilter {
        match self.min_level {
            Level::Debug => LevelFilter::TRACE,
            Level::Info => LevelFilter::INFO,
            Level::Warn => LevelFilter::WARN,
            Level::Error => LevelFilter::ERROR,
        }
    }
}

impl<S> Filter<S> for TimberFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.interest(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level_hint())
    }
}

/// `tracing` levels onto the SDK's four.
pub(crate) fn level_of(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_onto_four() {
        assert_eq!(level_of(&tracing_core::Level::TRACE), Level::Debug);
        assert_eq!(level_of(&tracing_core::Level::DEBUG), Level::Debug);
        assert_eq!(level_of(&tracing_core::Level::INFO), Level::Info);
        assert_eq!(level_of(&tracing_core::Level::WARN), Level::Warn);
        assert_eq!(level_of(&tracing_core::Level::ERROR), Level::Error);
    }
}
