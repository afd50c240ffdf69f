//! The two GraphQL-over-WebSocket protocols: which one a client offers,
//! what clients send, and how each protocol spells what the server sends.
use async_graphql::{Request, Response, ServerError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graphql;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws`: the legacy subscriptions-transport-ws protocol.
    Legacy,
}

impl Protocol {
    pub const fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }

    /// The first protocol of the client's `Sec-WebSocket-Protocol` offer
    /// (its header lines in order, each a comma list) that the server speaks.
    pub fn first_known<'a>(offer: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        offer
            .into_iter()
            .flat_map(|line| line.split(','))
            .find_map(|name| match name.trim() {
                "graphql-transport-ws" => Some(Self::TransportWs),
                "graphql-ws" => Some(Self::Legacy),
                _ => None,
            })
    }

    pub fn next(self, id: &str, response: &Response) -> String {
        let kind = match self {
            Self::TransportWs => "next",
            Self::Legacy => "data",
        };
        // `message`'s shape, the payload written by the response writer.
        let mut out = format!(r#"{{"type":"{kind}","id":"#).into_bytes();
        serde_json::to_writer(&mut out, id).expect("writing to memory does not fail");
        out.extend_from_slice(br#","payload":"#);
        graphql::response::write(&mut out, response, true);
        out.push(b'}');
        String::from_utf8(out).expect("JSON text is UTF-8")
    }

    /// The end of subscription `id` with `errors`; nothing follows it.
    pub fn error(self, id: &str, errors: &[ServerError]) -> String {
        match self {
            Self::TransportWs => message("error", Some(id), Some(errors)),
            // The legacy `error` carries one error object.
            Self::Legacy => message("error", Some(id), errors.first()),
        }
    }

    pub fn keep_alive(self) -> String {
        let kind = match self {
            Self::TransportWs => "ping",
            Self::Legacy => "ka",
        };
        message(kind, None, None::<()>)
    }
}

pub fn complete(id: &str) -> String {
    message("complete", Some(id), None::<()>)
}

pub fn connection_ack() -> String {
    message("connection_ack", None, None::<()>)
}

pub fn pong() -> String {
    message("pong", None, None::<()>)
}

/// The legacy protocol's refusal of `connection_init`.
pub fn connection_error(reason: &str) -> String {
    let payload = serde_json::json!({ "message": reason });
    message("connection_error", None, Some(payload))
}

fn message(kind: &str, id: Option<&str>, payload: Option<impl Serialize>) -> String {
    #[derive(Serialize)]
    struct Message<'a, P> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<P>,
    }
    serde_json::to_string(&Message { kind, id, payload }).expect("messages serialize")
}

/// What a client sends; each protocol's names are accepted in both.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Value,
    },
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<Request>,
    },
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    /// Legacy: the client is leaving.
    ConnectionTerminate,
    Ping,
    Pong,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_first_known_protocol_wins() {
        use Protocol::{Legacy, TransportWs};
        for (offer, chosen) in [
            (vec!["graphql-ws, graphql-transport-ws"], Some(Legacy)),
            (vec!["graphql-transport-ws,graphql-ws"], Some(TransportWs)),
            (vec!["soap", " graphql-ws "], Some(Legacy)),
            (
                vec!["wamp, graphql-transport-ws", "graphql-ws"],
                Some(TransportWs),
            ),
            (vec!["GRAPHQL-WS", "graphql"], None),
            (vec![], None),
        ] {
            assert_eq!(Protocol::first_known(offer.clone()), chosen, "{offer:?}");
        }
    }

    #[test]
    fn next_carries_the_response_with_json_text_as_json() {
        let mut data = async_graphql::indexmap::IndexMap::new();
        data.insert(
            async_graphql::Name::new("payload"),
            async_graphql::Value::Binary(bytes::Bytes::from_static(br#"{"a": [1]}"#)),
        );
        let response = Response::new(async_graphql::Value::Object(data));
        for (protocol, kind) in [(Protocol::TransportWs, "next"), (Protocol::Legacy, "data")] {
            let sent: Value = serde_json::from_str(&protocol.next("7\"", &response)).unwrap();
            assert_eq!(
                sent,
                serde_json::json!({"type": kind, "id": "7\"", "payload": {"data": {"payload": {"a": [1]}}}})
            );
        }
    }

    #[test]
    fn both_spellings_of_the_client_messages_parse() {
        for text in [
            r#"{"type":"subscribe","id":"1","payload":{"query":"{a}"}}"#,
            r#"{"type":"start","id":"1","payload":{"query":"{a}"}}"#,
        ] {
            let parsed = serde_json::from_str::<ClientMessage>(text).unwrap();
            assert!(matches!(parsed, ClientMessage::Subscribe { id, .. } if id == "1"));
        }
        let ping = r#"{"type":"ping","payload":{"x":1}}"#;
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(ping).unwrap(),
            ClientMessage::Ping
        ));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe"}"#).is_err());
    }
}
