//! A client's default user and session ids, which every record logged
//! after they were set carries unless the call gives its own.

use std::sync::Arc;

pub(crate) struct Ids {
    pub(crate) user_id: Option<Arc<str>>,
    pub(crate) session_id: Option<Arc<str>>,
}

impl Ids {
    pub(crate) fn new(user_id: Option<Arc<str>>, session_id: Option<Arc<str>>) -> Self {
        Ids {
            user_id,
            session_id,
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.user_id.is_some() || self.session_id.is_some()
    }
}
