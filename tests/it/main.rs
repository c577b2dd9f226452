//! The integration tests, in one crate so that the shared support code compiles once. Each
//! module starts the real `sealdrop` binary (on `127.0.0.1:0`) or runs it as a command, and
//! talks to it as its users do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/gpg.rs"]
mod gpg;
#[path = "../support/oidc.rs"]
mod oidc;
#[path = "../support/smtp.rs"]
mod smtp_support;
#[path = "../support/webdriver.rs"]
mod webdriver;

mod abuse;
mod adminapi;
mod browser;
mod cli;
mod clients;
mod console;
mod console_browser;
mod console_oidc;
mod crashloop;
mod crashpoints;
mod csaf;
mod demo;
mod disclosure;
mod durability;
mod faults;
mod gate;
mod handling;
mod hardening;
mod hardware_keys;
mod hostile;
mod limits;
mod notify;
mod operations;
mod pages;
#[cfg(feature = "postgres")]
mod postgres;
mod receipts;
mod reporter_page;
mod resumable_page;
mod rotation;
mod roundtrip;
#[cfg(all(feature = "s3", feature = "postgres"))]
mod s3;
mod security_txt;
mod send;
mod share;
mod smtp;
mod snapshots;
mod store;
mod tus;
mod validators;
mod workflow;
mod yearly;
