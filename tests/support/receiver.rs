//! A webhook receiver on a free loopback port, for the outbound webhook tests: it records every request and
//! answers 200, or 500 when told to fail.

use std::sync::{Arc, Mutex};

use http::StatusCode;

use crate::http_stub::{self, Request, Response};

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    /// A receiver that answers 200 (`fails` false) or always 500.
    pub fn start(fails: bool) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let recorded = received.clone();
        let address = http_stub::spawn("127.0.0.1:0", move |request| {
            recorded.lock().unwrap().push(request);
            let status = if fails { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
            Response { status, content_type: "text/plain", body: b"thanks".to_vec() }
        });
        Receiver { url: format!("http://{address}/hook"), received }
    }

    /// Every request so far whose JSON body's `data.task_id` is `task_id`.
    pub fn for_task(&self, task_id: i64) -> Vec<Request> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .filter(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.body).is_ok_and(|b| b["data"]["task_id"] == task_id)
            })
            .cloned()
            .collect()
    }
}
