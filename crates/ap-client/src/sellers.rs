//! The seller's side: payment onboarding, own listings, earnings, payouts, sales, revenue
//! and activity.

use ap_domain::page::Page;
use ap_domain::wire::{
    Activity, Earnings, NextPayout, OnboardingStarted, OwnListing, Revenue, RevenueBreakdown, Sale,
    SellerStatus,
};

use crate::{Client, Error, page_query};

/// A range of UTC days (`YYYY-MM-DD`), each end the server's default when `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Days<'a> {
    /// The first day.
    pub from: Option<&'a str>,
    /// The last day, included.
    pub to: Option<&'a str>,
}

impl Days<'_> {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(from) = self.from {
            query.push(("from", from.to_owned()));
        }
        if let Some(to) = self.to {
            query.push(("to", to.to_owned()));
        }
        query
    }
}

impl Client {
    /// `GET /v1/sellers/status`: whether the caller can sell, and where onboarding stands.
    pub async fn seller_status(&self) -> Result<SellerStatus, Error> {
        self.get("v1/sellers/status", &[]).await
    }

    /// `POST /v1/sellers/connect`: the caller's payment account (created on first use)
    /// and a fresh onboarding link.
    pub async fn connect_seller(&self) -> Result<OnboardingStarted, Error> {
        self.post_empty("v1/sellers/connect").await
    }

    /// `GET /v1/sellers/skills`: the caller's own listings, in every state.
    pub async fn own_listings(
        &self,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<OwnListing>, Error> {
        self.get("v1/sellers/skills", &page_query(limit, offset)).await
    }

    /// `GET /v1/sellers/earnings`.
    pub async fn earnings(&self) -> Result<Earnings, Error> {
        self.get("v1/sellers/earnings", &[]).await
    }

    /// `GET /v1/sellers/next-payout`.
    pub async fn next_payout(&self) -> Result<NextPayout, Error> {
        self.get("v1/sellers/next-payout", &[]).await
    }

    /// `GET /v1/sellers/sales`: sales in `days`, newest first, optionally of one listing.
    pub async fn sales(
        &self,
        days: Days<'_>,
        listing: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<Sale>, Error> {
        let mut query = days.query();
        query.extend(page_query(limit, offset));
        if let Some(slug) = listing {
            query.push(("skill", slug.to_owned()));
        }
        self.get("v1/sellers/sales", &query).await
    }

    /// `GET /v1/sellers/revenue`: net revenue per `period` (`day`, `week` or `month`).
    pub async fn revenue(&self, period: Option<&str>, days: Days<'_>) -> Result<Revenue, Error> {
        let mut query = days.query();
        if let Some(period) = period {
            query.push(("period", period.to_owned()));
        }
        self.get("v1/sellers/revenue", &query).await
    }

    /// `GET /v1/sellers/revenue/breakdown`: the figures per listing in `days`.
    pub async fn revenue_breakdown(&self, days: Days<'_>) -> Result<RevenueBreakdown, Error> {
        self.get("v1/sellers/revenue/breakdown", &days.query()).await
    }

    /// `GET /v1/sellers/activity`: what happened to the caller's listings, newest first.
    pub async fn activity(
        &self,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<Activity>, Error> {
        self.get("v1/sellers/activity", &page_query(limit, offset)).await
    }
}
