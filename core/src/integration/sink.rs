//! [`Sink`]: the client a bridge logs through.

use crate::client::global::with_global;
use crate::client::Client;

/// Where a bridge sends records: a client of its own, or whichever client
/// is global ([`set_global`](crate::set_global)) when each record comes.
#[derive(Clone, Debug)]
pub enum Sink {
    /// This client.
    Client(Client),
    /// The global client at the time of each record; records are dropped
    /// while none is set.
    Global,
}

impl Sink {
    /// Runs `f` with the client; `None` when the sink is global and no
    /// client is set (the record is dropped).
    pub fn with<R>(&self, f: impl FnOnce(&Client) -> R) -> Option<R> {
        match self {
            Sink::Client(client) => Some(f(client)),
            Sink::Global => with_global(f),
        }
    }

    /// The client records go to now.
    pub fn client(&self) -> Option<Client> {
        self.with(Client::clone)
    }
}
