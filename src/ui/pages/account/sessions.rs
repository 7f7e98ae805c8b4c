use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use crate::i18n::t;
use crate::server_fns::account::{load_sessions_page, EndOtherSessions, EndSession};
use crate::types::SessionView;
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card};
use crate::ui::pages::auth::form_state::{form_error, FormError};
use crate::ui::pages::auth::{Confirm, ConfirmActions};

/// `/account/sessions`: every browser signed in to the account (browser and system, IP, signed in, last
/// active; this one marked), ending one or all the others. Ending needs a recent sign-in: the confirm card
/// appears in place. Plain forms. Visitors not signed in go to /login.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let confirm = ConfirmActions::new();
    let page = Resource::new_blocking(
        move || (end.version().get(), end_others.version().get(), confirm.version()),
        |_| load_sessions_page(),
    );
    let query = use_query_map();
    let ended = move || query.read().get("ended").is_some();
    view! {
        <Title text=t("sessions.title") />
        <h1 class="vs-h1">{t("sessions.title")}</h1>
        <p><a href="/account" class="vs-link">{t("sessions.back")}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                let end_error = form_error(end, state.flash.clone(), "sessions");
                let others_error = form_error(end_others, state.flash.clone(), "sessions");
                let others = state.sessions.iter().filter(|s| !s.current).count();
                view! {
                    <Confirm options=state.confirm recently_confirmed=state.recently_confirmed
                        flash=state.flash.clone() actions=confirm
                        return_to="/account/sessions" />
                    <Card>
                        {move || ended().then(|| view! { <Alert kind=AlertKind::Success>{t("sessions.ended")}</Alert> })}
                        <FormError error=end_error />
                        <FormError error=others_error />
                        <p class="vs-muted">{t("sessions.lead")}</p>
                        <ul class="vs-list" data-sessions="">
                            {state.sessions.into_iter().map(|session| view! { <SessionItem session end /> }).collect_view()}
                        </ul>
                        {(others > 0).then(|| view! {
                            <ActionForm action=end_others>
                                <Button kind=ButtonKind::Secondary>{t("sessions.end_others")}</Button>
                            </ActionForm>
                        })}
                    </Card>
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn SessionItem(session: SessionView, end: ServerAction<EndSession>) -> impl IntoView {
    let device = session.device.clone().unwrap_or_else(|| t("sessions.unknown_device").to_string());
    let details = [
        session.ip.map(|ip| format!("{}: {ip}", t("sessions.ip"))),
        Some(format!("{}: {}", t("sessions.signed_in"), session.signed_in)),
        session.last_active.map(|at| format!("{}: {at}", t("sessions.last_active"))),
    ];
    view! {
        <li class="vs-list-item" data-session-current=session.current.then_some("")>
            <strong>{device}</strong>
            {session.current.then(|| view! { " " <span class="vs-badge">{t("sessions.this_device")}</span> })}
            <p class="vs-hint">{details.into_iter().flatten().collect::<Vec<_>>().join(" · ")}</p>
            {(!session.current).then(|| view! {
                <ActionForm action=end>
                    <input type="hidden" name="id" value=session.id />
                    <Button kind=ButtonKind::Secondary>{t("sessions.end")}</Button>
                </ActionForm>
            })}
        </li>
    }
}
