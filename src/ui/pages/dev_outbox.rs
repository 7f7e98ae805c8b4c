use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::ErrorKind;
use crate::i18n::t;
use crate::server_fns::dev::list_outbox;
use crate::ui::components::Card;
use crate::ui::pages::not_found::NotFoundPage;

/// `/dev/outbox`: mail the dev mailer wrote to disk. Outside dev mode the route answers 404.
#[component]
pub fn DevOutboxPage() -> impl IntoView {
    let messages = Resource::new_blocking(|| (), |_| list_outbox());
    view! {
        <Suspense fallback=|| view! { <p>{t("outbox.loading")}</p> }>
            {move || Suspend::new(async move {
                match messages.await {
                    Err(e) if e.kind == ErrorKind::NotFound => NotFoundPage().into_any(),
                    Err(e) => view! { <Card><p role="alert">{e.message()}</p></Card> }.into_any(),
                    Ok(list) => view! {
                        <Title text=t("outbox.title") />
                        <h1 class="vs-h1">{t("outbox.title")}</h1>
                        <p class="vs-lead">{t("outbox.lead")}</p>
                        <Card>
                            {if list.is_empty() {
                                view! { <p>{t("outbox.empty")}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="vs-table">
                                        <thead><tr>
                                            <th scope="col">{t("outbox.sent")}</th>
                                            <th scope="col">{t("outbox.to")}</th>
                                            <th scope="col">{t("outbox.subject")}</th>
                                            <th scope="col">{t("outbox.file")}</th>
                                        </tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|m| view! {
                                                <tr>
                                                    <td>{m.written_at}</td>
                                                    <td>{m.to}</td>
                                                    <td>{m.subject}</td>
                                                    <td><code>{m.file}</code></td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        </Card>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
