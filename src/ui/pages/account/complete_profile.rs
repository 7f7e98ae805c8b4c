use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::or_redirect;
use super::profile_fields::{problem_at, AttributeInput};
use crate::i18n::t;
use crate::server_fns::profile::{load_complete_profile_page, CompleteProfile};
use crate::ui::components::ButtonKind;
use crate::ui::components::{Button, Card, LinkButton};
use crate::ui::pages::auth::form_state::{form_error, FormError};

/// `/account/complete-profile`: asked once after a sign-in when the account lacks required attributes.
/// A form for just those, and "Not now", which continues to /account (the question is not asked again
/// until the next sign-in). With nothing missing it continues to /account at once.
#[component]
pub fn CompleteProfilePage() -> impl IntoView {
    let save = ServerAction::<CompleteProfile>::new();
    let page = Resource::new_blocking(|| (), |_| load_complete_profile_page());
    view! {
        <Title text=t("complete_profile.title") />
        <h1 class="vs-h1">{t("complete_profile.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                if state.missing.is_empty() {
                    return view! { <Redirect path="/account" /> }.into_any();
                }
                let error = form_error(save, state.flash.clone(), "complete-profile");
                view! {
                    <Card>
                        <p class="vs-muted">{t("complete_profile.lead")}</p>
                        <FormError error />
                        <ActionForm action=save>
                            {state.missing.into_iter().map(|field| {
                                let field_error = problem_at(error, field.field_name());
                                view! { <AttributeInput field error=field_error /> }
                            }).collect_view()}
                            <div class="vs-actions">
                                <Button>{t("complete_profile.save")}</Button>
                                <LinkButton href="/account" kind=ButtonKind::Secondary>
                                    {t("complete_profile.not_now")}
                                </LinkButton>
                            </div>
                        </ActionForm>
                    </Card>
                }
                .into_any()
            })}
        </Suspense>
    }
}
