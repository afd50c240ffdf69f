//! Pages of events written straight to JSON text. async-graphql resolves
//! each field of each row as a future of its own and gathers the answers
//! into a tree of values (about 650 of them for 50 events with their
//! accounts: most of the CPU a page costs). A page whose selection asks only
//! for what is already in memory is written here instead, in one pass that
//! follows a plan made once from the selection. Anything else (a field that
//! reads the store, a response key selected twice, a directive, a
//! fragment on another type, a value that fails) is left to async-graphql,
//! so the answer is the same either way: the tests below hold the two side
//! by side.
use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value,
    parser::types::{Field, FragmentDefinition, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::enum_value,
};
use entity::accounts;

use super::{Event, EventSource};
use crate::graphql::{
    connection::{Connection, Cursored, Edge, PageInfo},
    response::{write_str, write_value},
    scalars::{Cents, Json},
};

/// An `EventConnection`, written as text when its selection allows.
pub struct EventPage(Connection<Event>);

impl From<Connection<Event>> for EventPage {
    fn from(page: Connection<Event>) -> Self {
        Self(page)
    }
}

impl OutputType for EventPage {
    fn type_name() -> Cow<'static, str> {
        Connection::<Event>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Connection::<Event>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let planner = Planner(&ctx.query_env.fragments);
        let text = planner
            .plan::<Connection<Event>, _>(&ctx.item.node, page_field)
            .and_then(|plan| write_page(&self.0, &plan, ctx));
        match text {
            // `Binary` holds JSON text; the response writer writes it as is.
            Some(text) => Ok(Value::Binary(text.into())),
            None => OutputType::resolve(&self.0, ctx, field).await,
        }
    }
}

/// What to write for one object: each response key (as JSON, with its
/// colon) and what goes under it, in the order selected.
struct Plan<F> {
    type_name: Cow<'static, str>,
    fields: Vec<(Vec<u8>, Pick<F>)>,
}

enum Pick<F> {
    Typename,
    Field(F),
}

impl<F> Plan<F> {
    /// Writes the object, each field's value by `value` (`None`: this
    /// object cannot be written here).
    fn write(
        &self,
        out: &mut Vec<u8>,
        mut value: impl FnMut(&mut Vec<u8>, &F) -> Option<()>,
    ) -> Option<()> {
        out.push(b'{');
        for (i, (key, pick)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            match pick {
                Pick::Typename => write_str(out, &self.type_name),
                Pick::Field(field) => value(out, field)?,
            }
        }
        out.push(b'}');
        Some(())
    }
}

/// Makes plans from selection sets, expanding the request's fragments.
struct Planner<'a>(&'a HashMap<Name, Positioned<FragmentDefinition>>);

impl Planner<'_> {
    /// The plan for `set` on the object type `T`, each field picked by
    /// `pick`; `None` when a selection is one this module leaves to
    /// async-graphql.
    fn plan<T: OutputType, F>(
        &self,
        set: &SelectionSet,
        pick: fn(&Self, &Field) -> Option<F>,
    ) -> Option<Plan<F>> {
        let mut plan = Plan {
            type_name: T::type_name(),
            fields: Vec::new(),
        };
        self.collect(set, &mut plan, pick)?;
        // async-graphql answers null for an object with no field left (all
        // skipped), and merges the fields of a key selected twice.
        if plan.fields.is_empty() {
            return None;
        }
        let keys = &plan.fields;
        let repeated = (1..keys.len()).any(|i| keys[..i].iter().any(|(k, _)| *k == keys[i].0));
        (!repeated).then_some(plan)
    }

    fn collect<F>(
        &self,
        set: &SelectionSet,
        plan: &mut Plan<F>,
        pick: fn(&Self, &Field) -> Option<F>,
    ) -> Option<()> {
        // `@skip` and `@include` are gone by now (async-graphql applies
        // them before execution); any other directive is left to it.
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if !field.directives.is_empty() || !field.arguments.is_empty() {
                        return None;
                    }
                    let what = match field.name.node.as_str() {
                        "__typename" => Pick::Typename,
                        _ => Pick::Field(pick(self, field)?),
                    };
                    let mut key = Vec::new();
                    write_str(&mut key, field.response_key().node.as_str());
                    key.push(b':');
                    plan.fields.push((key, what));
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &self.0.get(&spread.node.fragment_name.node)?.node;
                    let on = &fragment.type_condition.node.on.node;
                    if !spread.node.directives.is_empty() || *on != *plan.type_name {
                        return None;
                    }
                    self.collect(&fragment.selection_set.node, plan, pick)?;
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let elsewhere = fragment
                        .type_condition
                        .as_ref()
                        .is_some_and(|on| *on.node.on.node != *plan.type_name);
                    if !fragment.directives.is_empty() || elsewhere {
                        return None;
                    }
                    self.collect(&fragment.selection_set.node, plan, pick)?;
                }
            }
        }
        Some(())
    }
}

enum PageField {
    Edges(Plan<EdgeField>),
    PageInfo(Plan<PageInfoField>),
}

enum EdgeField {
    Cursor,
    Node(Plan<EventField>),
}

enum PageInfoField {
    HasNextPage,
    EndCursor,
}

enum EventField {
    Id,
    Cursor,
    Source,
    Type,
    AccountId,
    Account(Plan<AccountField>),
    OccurredAt,
    ReceivedAt,
    Payload,
    PurgedAt,
    ContentType,
    Deliveries,
    FollowUp,
}

enum AccountField {
    Id,
    CustomerId,
    Status,
    StatusSubtype,
    CreditLimitCents,
    AvailableCreditCents,
    TotalBalanceCents,
    MinPayDueCents,
    MinPayDueAt,
    DaysPastDue,
    DelinquentAsOf,
    UpdatedAt,
    Snapshot,
}

// The names below are the schema's (`Event`'s and `Account`'s resolvers);
// a name missing here only sends the page to async-graphql.

fn page_field(planner: &Planner, field: &Field) -> Option<PageField> {
    let set = &field.selection_set.node;
    Some(match field.name.node.as_str() {
        "edges" => PageField::Edges(planner.plan::<Edge<Event>, _>(set, edge_field)?),
        "pageInfo" => PageField::PageInfo(planner.plan::<PageInfo, _>(set, page_info_field)?),
        _ => return None,
    })
}

fn edge_field(planner: &Planner, field: &Field) -> Option<EdgeField> {
    let set = &field.selection_set.node;
    Some(match field.name.node.as_str() {
        "cursor" => EdgeField::Cursor,
        "node" => EdgeField::Node(planner.plan::<Event, _>(set, event_field)?),
        _ => return None,
    })
}

fn page_info_field(_: &Planner, field: &Field) -> Option<PageInfoField> {
    Some(match field.name.node.as_str() {
        "hasNextPage" => PageInfoField::HasNextPage,
        "endCursor" => PageInfoField::EndCursor,
        _ => return None,
    })
}

fn event_field(planner: &Planner, field: &Field) -> Option<EventField> {
    use EventField::*;
    Some(match field.name.node.as_str() {
        "id" => Id,
        "cursor" => Cursor,
        "source" => Source,
        "type" => Type,
        "accountId" => AccountId,
        "account" => {
            Account(planner.plan::<super::Account, _>(&field.selection_set.node, account_field)?)
        }
        "occurredAt" => OccurredAt,
        "receivedAt" => ReceivedAt,
        "payload" => Payload,
        "purgedAt" => PurgedAt,
        "contentType" => ContentType,
        "deliveries" => Deliveries,
        "followUp" => FollowUp,
        _ => return None,
    })
}

fn account_field(_: &Planner, field: &Field) -> Option<AccountField> {
    use AccountField::*;
    Some(match field.name.node.as_str() {
        "id" => Id,
        "customerId" => CustomerId,
        "status" => Status,
        "statusSubtype" => StatusSubtype,
        "creditLimitCents" => CreditLimitCents,
        "availableCreditCents" => AvailableCreditCents,
        "totalBalanceCents" => TotalBalanceCents,
        "minPayDueCents" => MinPayDueCents,
        "minPayDueAt" => MinPayDueAt,
        "daysPastDue" => DaysPastDue,
        "delinquentAsOf" => DelinquentAsOf,
        "updatedAt" => UpdatedAt,
        "snapshot" => Snapshot,
        _ => return None,
    })
}

fn write_page(
    page: &Connection<Event>,
    plan: &Plan<PageField>,
    ctx: &ContextSelectionSet<'_>,
) -> Option<Vec<u8>> {
    // About what async-graphql's page of the benchmark's selection writes.
    let mut out = Vec::with_capacity(512 * page.edges.len() + 128);
    plan.write(&mut out, |out, field| match field {
        PageField::Edges(plan) => {
            out.push(b'[');
            for (i, edge) in page.edges.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                plan.write(out, |out, field| match field {
                    EdgeField::Cursor => {
                        write_str(out, &edge.cursor);
                        Some(())
                    }
                    EdgeField::Node(plan) => write_event(out, &edge.node, plan, ctx),
                })?;
            }
            out.push(b']');
            Some(())
        }
        PageField::PageInfo(plan) => plan.write(out, |out, field| {
            match field {
                PageInfoField::HasNextPage => {
                    write_value(out, &Value::Boolean(page.page_info.has_next_page));
                }
                PageInfoField::EndCursor => opt_str(out, page.page_info.end_cursor.as_deref()),
            }
            Some(())
        }),
    })?;
    Some(out)
}

fn write_event(
    out: &mut Vec<u8>,
    event: &Event,
    plan: &Plan<EventField>,
    ctx: &ContextSelectionSet<'_>,
) -> Option<()> {
    let row = event.row();
    plan.write(out, |out, field| {
        match field {
            EventField::Id => write_str(out, &crate::ids::event_id(row.id)),
            EventField::Cursor => write_str(out, &Cursored::cursor(event)),
            EventField::Source => {
                let source = EventSource::from_stored(&row.source).ok()?;
                write_value(out, &enum_value(source));
            }
            EventField::Type => write_str(out, &row.event_type),
            EventField::AccountId => opt_str(out, row.account_id.as_deref()),
            EventField::Account(plan) => match event.account_at_hand().ok()? {
                Some(account) => write_account(out, account, plan, ctx)?,
                None => write_value(out, &Value::Null),
            },
            EventField::OccurredAt => opt(out, row.occurred_at.as_ref()),
            EventField::ReceivedAt => scalar(out, &row.received_at),
            EventField::Payload => scalar(out, &event.payload_for(ctx).ok()?),
            EventField::PurgedAt => opt(out, row.purged_at.as_ref()),
            EventField::ContentType => opt_str(out, row.content_type.as_deref()),
            EventField::Deliveries => scalar(out, &row.deliveries),
            EventField::FollowUp => opt(out, event.follow_up_for(ctx).ok()?.as_ref()),
        }
        Some(())
    })
}

fn write_account(
    out: &mut Vec<u8>,
    account: &accounts::Model,
    plan: &Plan<AccountField>,
    ctx: &ContextSelectionSet<'_>,
) -> Option<()> {
    let cents = |out: &mut Vec<u8>, value: Option<i64>| opt(out, value.map(Cents).as_ref());
    plan.write(out, |out, field| {
        match field {
            AccountField::Id => write_str(out, &account.id),
            AccountField::CustomerId => opt_str(out, account.customer_id.as_deref()),
            AccountField::Status => opt_str(out, account.status.as_deref()),
            AccountField::StatusSubtype => opt_str(out, account.status_subtype.as_deref()),
            AccountField::CreditLimitCents => cents(out, account.credit_limit_cents),
            AccountField::AvailableCreditCents => cents(out, account.available_credit_cents),
            AccountField::TotalBalanceCents => cents(out, account.total_balance_cents),
            AccountField::MinPayDueCents => cents(out, account.min_pay_due_cents),
            AccountField::MinPayDueAt => opt(out, account.min_pay_due_at.as_ref()),
            AccountField::DaysPastDue => opt(out, account.days_past_due.as_ref()),
            AccountField::DelinquentAsOf => opt(out, account.delinquent_as_of.as_ref()),
            AccountField::UpdatedAt => scalar(out, &account.updated_at),
            AccountField::Snapshot => {
                let snapshot = Json::for_caller_opt(ctx, account.snapshot.as_deref()).ok()?;
                opt(out, snapshot.as_ref());
            }
        }
        Some(())
    })
}

/// A value of a scalar as async-graphql writes it.
fn scalar(out: &mut Vec<u8>, value: &impl ScalarType) {
    write_value(out, &value.to_value());
}

fn opt(out: &mut Vec<u8>, value: Option<&impl ScalarType>) {
    match value {
        Some(value) => scalar(out, value),
        None => write_value(out, &Value::Null),
    }
}

fn opt_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_str(out, text),
        None => write_value(out, &Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};
    use chrono::{TimeZone, Utc};
    use entity::events;

    use super::*;
    use crate::{
        auth::{Caller, Role},
        graphql::{connection::Page, response},
    };

    /// The same page both ways: `slow` through async-graphql, `fast` here.
    struct Pages;

    #[Object]
    impl Pages {
        async fn slow(&self) -> Connection<Event> {
            page()
        }

        async fn fast(&self) -> EventPage {
            page().into()
        }

        /// A page with a row whose stored source is unknown: `source` fails.
        async fn broken(&self) -> EventPage {
            let mut row = event_row(9, "canopy", None);
            row.source = "mystery".to_owned();
            Connection::from_rows(
                vec![(row, None)],
                Page::new(Some(5)).unwrap(),
                Event::with_account,
            )
            .into()
        }
    }

    fn at(second: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, second).unwrap()
    }

    fn event_row(id: i64, source: &str, account_id: Option<&str>) -> events::Model {
        events::Model {
            id,
            source: source.to_owned(),
            event_type: "payment_due_date".to_owned(),
            account_id: account_id.map(str::to_owned),
            dedup_key: Some(format!("k-{id}")),
            occurred_at: (id % 2 == 0).then(|| at(1)),
            received_at: at(2),
            payload: format!(
                r#"{{ "n": {id}.50, "customer": {{"ssn": "123-45-6789", "name": "A \"B\""}} }}"#
            ),
            content_type: (id == 3).then(|| "text/plain".to_owned()),
            deliveries: i32::try_from(id).unwrap(),
            follow_up: (id == 2).then(|| r#"{"bank_account_number": "000123456"}"#.to_owned()),
            purged_at: (id == 4).then(|| at(3)),
        }
    }

    fn account(id: &str) -> accounts::Model {
        accounts::Model {
            id: id.to_owned(),
            customer_id: Some("cus-1".to_owned()),
            status: Some("ACTIVE".to_owned()),
            status_subtype: None,
            credit_limit_cents: Some(500_000),
            available_credit_cents: Some(-1),
            total_balance_cents: Some(i64::MAX),
            min_pay_due_cents: None,
            min_pay_due_at: Some(at(4)),
            days_past_due: Some(3),
            delinquent_as_of: None,
            snapshot: Some(r#"{"date_of_birth": "1985-06-20", "limit": 5}"#.to_owned()),
            snapshot_changed_at: Some(at(5)),
            updated_at: at(6),
        }
    }

    /// Newest first, one row more than `first`: an account read along, an
    /// account named but not stored, a LoanPro loan id, no account at all.
    fn page() -> Connection<Event> {
        let rows = vec![
            (
                event_row(4, "canopy", Some("acct-1")),
                Some(account("acct-1")),
            ),
            (event_row(3, "canopy", Some("acct-gone")), None),
            (event_row(2, "loanpro", Some("acct-1")), None),
            (event_row(1, "embedded_funding", None), None),
            (event_row(0, "canopy", None), None),
        ];
        Connection::from_rows(rows, Page::new(Some(4)).unwrap(), Event::with_account)
    }

    const EVERY_FIELD: &str = "
        __typename
        edges { __typename cursor node { __typename id cursor source type accountId
          occurredAt receivedAt payload purgedAt contentType deliveries followUp
          account { __typename id customerId status statusSubtype creditLimitCents
            availableCreditCents totalBalanceCents minPayDueCents minPayDueAt
            daysPastDue delinquentAsOf updatedAt snapshot } } }
        pageInfo { __typename hasNextPage endCursor }";

    /// The page under `root`, selected by `selection`, as `role` sees it:
    /// the response's text and the page's value.
    async fn run(root: &str, selection: &str, role: Role) -> (String, Value) {
        let schema = Schema::new(Pages, EmptyMutation, EmptySubscription);
        // Only what the selection uses: unused variables and fragments are
        // errors.
        let mut variables = Vec::new();
        for (name, value) in [("yes", true), ("no", false)] {
            if selection.contains(&format!("${name}")) {
                variables.push(format!("${name}: Boolean = {value}"));
            }
        }
        let mut query = match variables.is_empty() {
            true => format!("{{ page: {root} {{ {selection} }} }}"),
            false => format!(
                "query({}) {{ page: {root} {{ {selection} }} }}",
                variables.join(", ")
            ),
        };
        for (name, fragment) in [
            ("Row", "fragment Row on Event { id type }"),
            ("Owner", "fragment Owner on Account { status }"),
        ] {
            if selection.contains(&format!("...{name}")) {
                query.push_str(fragment);
            }
        }
        let caller = Caller {
            role,
            key_id: "test".to_owned(),
        };
        let request = Request::new(query).data(caller);
        let response = schema.execute(request).await;
        let text = String::from_utf8({
            let mut out = Vec::new();
            response::write(&mut out, &response, true);
            out
        })
        .unwrap();
        let page = match &response.data {
            Value::Object(data) => data.get("page").cloned().unwrap_or_default(),
            _ => Value::Null,
        };
        (text, page)
    }

    /// Asserts both ways answer alike, and whether the page was written here.
    async fn same(selection: &str, written_here: bool) {
        for role in [Role::Read, Role::Pii] {
            let (slow, _) = run("slow", selection, role).await;
            let (fast, page) = run("fast", selection, role).await;
            assert_eq!(fast, slow, "{selection} as {role:?}");
            assert_eq!(
                matches!(page, Value::Binary(_)),
                written_here,
                "{selection}: written here"
            );
        }
    }

    #[tokio::test]
    async fn every_field_it_writes_reads_as_async_graphql_writes_it() {
        same(EVERY_FIELD, true).await;
        // The benchmark's selection.
        same(
            "edges { cursor node { id type accountId receivedAt payload
               account { id status creditLimitCents availableCreditCents } } }
             pageInfo { hasNextPage endCursor }",
            true,
        )
        .await;
    }

    #[tokio::test]
    async fn aliases_fragments_and_skipped_fields_read_alike() {
        same(
            "rows: edges { at: cursor node { ...Row ... on Event { source }
               ... { when: receivedAt } account { ...Owner balance: totalBalanceCents } } }
             pageInfo { next: hasNextPage }",
            true,
        )
        .await;
        same(
            "edges { node { id payload @skip(if: $yes) type @include(if: $no)
               account @include(if: $yes) { id } } }",
            true,
        )
        .await;
        same(
            "edges { cursor } pageInfo @skip(if: true) { endCursor }",
            true,
        )
        .await;
    }

    #[tokio::test]
    async fn what_it_does_not_write_goes_to_async_graphql() {
        // A key selected twice (async-graphql merges them).
        same("edges { cursor } edges { node { id } }", false).await;
        same("edges { node { id } node { type } }", false).await;
        // An object with nothing left in it (async-graphql writes null).
        same("edges { cursor node { id @skip(if: true) } }", false).await;
    }

    #[tokio::test]
    async fn a_value_that_fails_leaves_the_page_to_async_graphql() {
        let (text, page) = run("broken", "edges { node { id source } }", Role::Read).await;
        assert!(!matches!(page, Value::Binary(_)));
        assert!(text.contains("unknown stored source"), "{text}");
        // Without the failing field, the same page is written here.
        let (_, page) = run("broken", "edges { node { id } }", Role::Read).await;
        assert!(matches!(page, Value::Binary(_)));
    }

    #[tokio::test]
    async fn pii_is_masked_for_callers_without_the_role() {
        let (masked, _) = run("fast", EVERY_FIELD, Role::Read).await;
        let (full, _) = run("fast", EVERY_FIELD, Role::Pii).await;
        for secret in ["123-45-6789", "1985-06-20", "000123456"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
            assert!(full.contains(secret), "{secret} not in {full}");
        }
    }
}
