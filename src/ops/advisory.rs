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
use crate::store::{Refusal, StoreError};

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
        let base = portal.public_url();
        let credit = record.disclosure.credit.as_ref().map(|c| c.name.clone());
        let facts = csaf::Facts {
            org: &portal.config().org.name,
            contact: &portal.config().org.contact_email,
            csaf: &portal.config().csaf,
            base: &base,
            discovered: &record.received_at,
            credit: credit.as_deref(),
        };
        let store = portal.store();
        for _ in 0..TRIES {
            let claimed = store.advisory_of_case(case)?;
            let (published, old_draft) = match &claimed {
                Some(id) => (store.advisory(id)?, store.advisory_draft(id)?),
                None => (None, None),
            };
            // A first version is written for a resolved case; a revision also when the case
            // was opened again (an incomplete fix is when an update is due).
            if published.is_none() && record.status != Status::Resolved {
                return Err(Refused::Case(format!(
                    "case {case} is {}: an advisory is written for a resolved case (`sealdrop \
                     admin status {case} resolved` first)",
                    record.status
                ))
                .into());
            }
            let now = store.clock().text();
            let change = call
                .request
                .input
                .change
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty());
            // What the team gave, laid over the pending draft if there is one (it already
            // holds the earlier versions' fields), else over the published version.
            let earlier = old_draft
                .as_ref()
                .or(published.as_ref())
                .map(|a| a.value.input.clone())
                .unwrap_or_default();
            let input = call.request.input.over(&earlier);
            let (id, history) = match &published {
                Some(p) => {
                    let summary = change.ok_or_else(|| {
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
                    (p.value.id.clone(), history)
                }
                None => {
                    let id = match &claimed {
                        Some(id) => id.clone(),
                        None => next_id(portal, &now)?,
                    };
                    let history = vec![Revision {
                        number: 1,
                        date: now.clone(),
                        summary: change.unwrap_or("First release").to_owned(),
                    }];
                    (id, history)
                }
            };
            let document = csaf::compose(&facts, &id, &input, &history)?;
            let advisory = Advisory {
                id,
                case: case.to_owned(),
                input,
                history,
                credit: credit.clone(),
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
            if store.save_advisory_draft(
                claimed.as_deref(),
                old_draft.as_ref(),
                published.as_ref(),
                &advisory,
                &event,
            )? {
                tracing::info!(case, "advisory drafted");
                return Ok(view(portal, &advisory, false, None));
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
        let store = portal.store();
        let draft = store.advisory_draft(id)?.ok_or_else(|| {
            Refused::Unknown(format!("there is no draft of advisory {id:?} to publish"))
        })?;
        let tlp = draft.value.input.tlp.unwrap_or(Tlp::White);
        if tlp != Tlp::White {
            return Err(Refused::NotWhite(tlp.label()).into());
        }
        let now = portal.now();
        let signer = crate::openpgp::verify_detached(
            draft.value.document.as_bytes(),
            &call.request.signature,
            &keys,
            now,
        )
        .map_err(|e| {
            Refused::Signature(format!(
                "the signature is refused: {e}. The draft to sign is {} version {}, made at \
                 {}: if someone drafted it again since, get it with `sealdrop admin advisory \
                 show {id} -o FILE`",
                draft.value.id,
                draft.value.version(),
                draft.value.current()
            ))
        })?;
        let case = &draft.value.case;
        let record = store
            .record(case)?
            .ok_or_else(|| PortalError::NoSuchCase(case.clone()))?;
        let credit_now = record.disclosure.credit.as_ref().map(|c| c.name.as_str());
        if draft.value.credit.as_deref() != credit_now {
            return Err(Refused::Case(format!(
                "the reporter's credit in case {case} changed since this draft was made \
                 (published, withdrawn, or the case was deleted): draft it again, so that the \
                 advisory names only whom the reporter agreed to"
            ))
            .into());
        }
        if let Some(why) = portal.policy().advisory_held_back(&record, now) {
            return Err(Refused::Case(why).into());
        }
        let max_age = portal.config().csaf.max_draft_age.0;
        let drafted: jiff::Timestamp = draft
            .value
            .current()
            .parse()
            .map_err(|_| Refused::Case(format!("the draft of {id} has no valid date")))?;
        if (now - drafted).as_secs() > max_age.as_secs() as i64 {
            return Err(Refused::Case(format!(
                "the draft of {id} was made at {}, longer than csaf.max_draft_age ago: its \
                 release dates would be stale for those who follow changes.csv; draft it again \
                 (the same command) and sign the new file",
                draft.value.current()
            ))
            .into());
        }
        let published = store.advisory(id)?;
        let at = crate::clock::rfc3339(now);
        let advisory = Advisory {
            signature: Some(call.request.signature.clone()),
            signer: Some(signer.clone()),
            published_at: Some(at.clone()),
            ..draft.value.clone()
        };
        let event = audit(
            AuditKind::AdvisoryPublished,
            at,
            &advisory,
            &call.actor,
            format!(
                "{} version {}, signed by {signer}",
                advisory.id,
                advisory.version()
            ),
        );
        if !store.publish_advisory(&draft, published.as_ref(), &advisory, &event)? {
            return Err(Refused::Replaced(id.clone()).into());
        }
        super::csaf_folder::forget(portal);
        tracing::info!(case = %advisory.case, "advisory published");
        Ok(view(portal, &advisory, true, None))
    }
}

impl Execute for Advisories {
    fn execute(portal: &Portal, _: Call<NoQuery>) -> Result<Vec<AdvisoryView>, PortalError> {
        let store = portal.store();
        let mut all = Vec::new();
        for a in store.advisories()? {
            // A credit withdrawn (or a case deleted) after publication: the served version
            // still names the person until a revision replaces it.
            let credit_now = store
                .record(&a.value.case)?
                .and_then(|r| r.disclosure.credit.map(|c| c.name));
            let attention = (a.value.credit.is_some() && a.value.credit != credit_now).then(|| {
                format!(
                    "it names a credit the reporter no longer agrees to: draft a revision \
                     (`sealdrop admin advisory draft {} --change \"Credit removed\"`) and \
                     publish it",
                    a.value.case
                )
            });
            all.push(view(portal, &a.value, true, attention));
        }
        for d in store.advisory_drafts()? {
            all.push(view(portal, &d.value, false, None));
        }
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
    let text = std::fs::read_to_string(path)
        .map_err(|e| Refused::NoKey(format!("cannot read {}: {e}", path.display())))?;
    crate::openpgp::public_keys_to_serve(&text)
        .map_err(|e| Refused::NoKey(format!("{}: {e}", path.display())))?;
    Ok(text)
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

fn view(portal: &Portal, a: &Advisory, published: bool, attention: Option<String>) -> AdvisoryView {
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
        attention,
        document: a.document.clone(),
    }
}
