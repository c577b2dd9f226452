//! `admin advisory draft CASE … | publish ID --signature FILE.asc | list`: CSAF 2.0 advisories.
//! The portal writes the document of a resolved case (`csaf::compose`) and keeps it as a draft;
//! the team signs it on its own machine (`gpg --detach-sign --armor`); `publish` checks the
//! signature against `org.security_txt_signing_key` over the draft's exact bytes and moves the
//! draft into the provider folder in one transaction with its audit entry. A later draft for
//! the same case is the next revision: the same id, a longer history.

use super::{Call, Execute};
use crate::adminapi::op::{Advisories, DraftAdvisory, PublishAdvisory};
use crate::adminapi::{AdvisoryDraftRequest, AdvisoryPublishRequest, AdvisoryView, NoQuery};
use crate::csaf::{self, Advisory, Refused, Revision, Tlp};
use crate::portal::{Portal, PortalError};
use crate::record::{Actor, AuditEvent, AuditKind, Status};
use crate::store::{Refusal, StoreError, Stored};

/// Tries of a draft that lost a race to another change.
const TRIES: usize = 8;

impl Execute for DraftAdvisory {
    fn execute(
        portal: &Portal,
        call: Call<AdvisoryDraftRequest>,
    ) -> Result<AdvisoryView, PortalError> {
        signing_keys(portal)?;
        let case = call.case()?;
        let record = portal
            .store()
            .record(case)?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
        if record.status != Status::Resolved {
            return Err(Refused::Case(format!(
                "case {case} is {}: an advisory is written for a resolved case (`sealdrop \
                 admin status {case} resolved` first)",
                record.status
            ))
            .into());
        }
        let base = portal.public_url();
        let facts = csaf::Facts {
            org: &portal.config().org.name,
            contact: &portal.config().org.contact_email,
            csaf: &portal.config().csaf,
            base: &base,
            discovered: &record.received_at,
            credit: record.disclosure.credit.as_ref().map(|c| c.name.as_str()),
        };
        for _ in 0..TRIES {
            let published = of_case(portal.store().advisories()?, case);
            let old_draft = of_case(portal.store().advisory_drafts()?, case);
            let now = portal.store().clock().text();
            let change = call.request.input.change.as_deref().map(str::trim);
            let (id, input, history) = match (&published, &old_draft) {
                (Some(p), _) => {
                    let summary = change.filter(|c| !c.is_empty()).ok_or_else(|| {
                        Refused::Input(format!(
                            "{} is published: say what this revision changes (--change TEXT)",
                            p.value.id
                        ))
                    })?;
                    let mut history = p.value.history.clone();
                    history.push(Revision {
                        number: p.value.version() + 1,
                        date: now.clone(),
                        summary: summary.to_owned(),
                    });
                    (
                        p.value.id.clone(),
                        call.request.input.over(&p.value.input),
                        history,
                    )
                }
                (None, draft) => {
                    let id = match draft {
                        Some(d) => d.value.id.clone(),
                        None => next_id(portal, &now)?,
                    };
                    let earlier = draft
                        .as_ref()
                        .map(|d| d.value.input.clone())
                        .unwrap_or_default();
                    let history = vec![Revision {
                        number: 1,
                        date: now.clone(),
                        summary: change
                            .filter(|c| !c.is_empty())
                            .unwrap_or("First release")
                            .to_owned(),
                    }];
                    (id, call.request.input.over(&earlier), history)
                }
            };
            let document = csaf::compose(&facts, &id, &input, &history)?;
            let advisory = Advisory {
                id,
                case: case.to_owned(),
                input,
                history,
                document,
                signature: None,
                signer: None,
                published_at: None,
            };
            let event = audit(
                AuditKind::AdvisoryDrafted,
                now,
                &advisory,
                &call.actor,
                format!("{} version {}", advisory.id, advisory.version()),
            );
            if portal.store().save_advisory_draft(
                old_draft.as_ref(),
                published.as_ref(),
                &advisory,
                &event,
            )? {
                tracing::info!(case, "advisory drafted");
                return Ok(view(portal, &advisory, false));
            }
        }
        Err(StoreError::Refused(Refusal::Replaced).into())
    }
}

impl Execute for PublishAdvisory {
    fn execute(
        portal: &Portal,
        call: Call<AdvisoryPublishRequest>,
    ) -> Result<AdvisoryView, PortalError> {
        let keys = signing_keys(portal)?;
        let id = &call.request.id;
        let draft = portal.store().advisory_draft(id)?.ok_or_else(|| {
            Refused::Unknown(format!("there is no draft of advisory {id:?} to publish"))
        })?;
        let tlp = draft.value.input.tlp.unwrap_or(Tlp::White);
        if tlp != Tlp::White {
            return Err(Refused::NotWhite(tlp.label()).into());
        }
        let signer = crate::openpgp::verify_detached(
            draft.value.document.as_bytes(),
            &call.request.signature,
            &keys,
        )
        .map_err(Refused::from)?;
        let published = portal.store().advisory(id)?;
        let now = portal.store().clock().text();
        let advisory = Advisory {
            signature: Some(call.request.signature.clone()),
            signer: Some(signer.clone()),
            published_at: Some(now.clone()),
            ..draft.value.clone()
        };
        let event = audit(
            AuditKind::AdvisoryPublished,
            now,
            &advisory,
            &call.actor,
            format!(
                "{} version {}, signed by {signer}",
                advisory.id,
                advisory.version()
            ),
        );
        if !portal
            .store()
            .publish_advisory(&draft, published.as_ref(), &advisory, &event)?
        {
            return Err(StoreError::Refused(Refusal::Replaced).into());
        }
        tracing::info!(case = %advisory.case, "advisory published");
        Ok(view(portal, &advisory, true))
    }
}

impl Execute for Advisories {
    fn execute(portal: &Portal, _: Call<NoQuery>) -> Result<Vec<AdvisoryView>, PortalError> {
        let published = portal.store().advisories()?;
        let drafts = portal.store().advisory_drafts()?;
        let mut all: Vec<AdvisoryView> = published
            .iter()
            .map(|a| view(portal, &a.value, true))
            .chain(drafts.iter().map(|d| view(portal, &d.value, false)))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id).then(b.state.cmp(&a.state)));
        Ok(all)
    }
}

/// The organisation's OpenPGP public key(s), as configured.
fn signing_keys(portal: &Portal) -> Result<String, PortalError> {
    let path = &portal.config().org.security_txt_signing_key;
    if path.as_os_str().is_empty() {
        return Err(Refused::NoKey(
            "org.security_txt_signing_key is not set: advisories are signed with the \
             organisation's OpenPGP key"
                .into(),
        )
        .into());
    }
    std::fs::read_to_string(path)
        .map_err(|e| Refused::NoKey(format!("cannot read {}: {e}", path.display())).into())
}

/// The one advisory (or draft) about `case`, if any.
fn of_case(all: Vec<Stored<Advisory>>, case: &str) -> Option<Stored<Advisory>> {
    all.into_iter().find(|a| a.value.case == case)
}

/// The id of a new advisory drafted at `now`: the next number of its year.
fn next_id(portal: &Portal, now: &str) -> Result<String, PortalError> {
    let prefix = &portal.config().csaf.id_prefix;
    let year: i16 = now.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let start = format!("{prefix}-{year}-");
    let store = portal.store();
    let taken = store
        .advisories()?
        .into_iter()
        .chain(store.advisory_drafts()?)
        .filter(|a| a.value.id.starts_with(&start))
        .count();
    Ok(csaf::new_id(prefix, year, taken + 1))
}

fn audit(kind: AuditKind, at: String, a: &Advisory, actor: &Actor, detail: String) -> AuditEvent {
    AuditEvent {
        at,
        event: kind,
        key_id: None,
        case: Some(a.case.clone()),
        detail,
        actor: Some(actor.as_str().to_owned()),
    }
}

fn view(portal: &Portal, a: &Advisory, published: bool) -> AdvisoryView {
    let tlp = a.input.tlp.unwrap_or(Tlp::White);
    AdvisoryView {
        id: a.id.clone(),
        case: a.case.clone(),
        state: if published { "published" } else { "draft" }.into(),
        version: a.version(),
        title: a.input.title.clone().unwrap_or_default(),
        profile: a.input.profile,
        tlp,
        file_name: csaf::file_name(&a.id),
        url: (tlp == Tlp::White).then(|| {
            format!(
                "{}/.well-known/csaf/{}/{}",
                portal.public_url(),
                csaf::provider::FOLDER,
                a.path()
            )
        }),
        published_at: a.published_at.clone(),
        signer: a.signer.clone(),
        document: a.document.clone(),
    }
}
