//! Storage: media objects in S3, under fixed key prefixes per purpose (see [`keys`]).
//!
//! Uploads never pass through a function: a client gets a pre-signed PUT URL and sends the bytes to S3 itself.
//! The jobs that process, serve and clean up media use the other operations here.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

use crate::aws::describe;

/// The bucket's layout. Only [`keys::PROCESSED`] and [`keys::OPEN_GRAPH`] are ever handed to clients as URLs;
/// originals are read by the processing job alone.
pub mod keys {
    use sha2::{Digest, Sha256};
    use uuid::Uuid;

    /// Originals as clients uploaded them: `uploads/<upload id>`.
    pub const ORIGINALS: &str = "uploads/";
    /// Processed uploads: `media/<purpose>/<upload id>.<ext>`.
    pub const PROCESSED: &str = "media/";
    /// Open Graph images, content-addressed: `og/<sha-256 of the bytes>.png`.
    pub const OPEN_GRAPH: &str = "og/";
    /// Code images of tasks published to Telegram, content-addressed: `code/<sha-256 of what is drawn>.png`.
    pub const CODE_IMAGES: &str = "code/";
    /// Every prefix the media clean-up looks after.
    pub const ALL: [&str; 4] = [ORIGINALS, PROCESSED, OPEN_GRAPH, CODE_IMAGES];

    pub fn original(upload: Uuid) -> String {
        format!("{ORIGINALS}{upload}")
    }

    pub fn processed(purpose: &str, upload: Uuid, extension: &str) -> String {
        format!("{PROCESSED}{purpose}/{upload}.{extension}")
    }

    /// The same picture always has the same key, so regenerating an unchanged image writes nothing new.
    pub fn open_graph(png: &[u8]) -> String {
        format!("{OPEN_GRAPH}{}.png", hex::encode(Sha256::digest(png)))
    }

    /// A code image's key, from the SHA-256 of what it shows: the same code is drawn and stored once.
    pub fn code_image(content_sha256: &str) -> String {
        format!("{CODE_IMAGES}{content_sha256}.png")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct StorageError(pub String);

/// One stored object, as a listing shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    pub last_modified: Option<DateTime<Utc>>,
}

/// The media bucket.
#[derive(Clone)]
pub struct MediaStore {
    s3: crate::aws::LazyClient<aws_sdk_s3::Client>,
    bucket: String,
    base_url: String,
}

impl MediaStore {
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self { s3: crate::aws::LazyClient::new(sdk), bucket: bucket.into(), base_url: base_url.into() }
    }

    fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_make(crate::aws::s3_client)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The address a client reads a served object at.
    pub fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.base_url)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StorageError> {
        self.s3()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| StorageError(describe(&e)))?;
        Ok(())
    }

    /// The object's bytes, or `None` when there is no such key.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let object = match self.s3().get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(StorageError(describe(&e))),
        };
        let bytes = object.body.collect().await.map_err(|e| StorageError(e.to_string()))?;
        Ok(Some(bytes.to_vec()))
    }

    /// The object's size, or `None` when there is no such key.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.s3().head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StorageError(describe(&e))),
        }
    }

    /// Deletes many objects, a thousand per request (S3's limit); an object S3 could not delete is an error.
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), StorageError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build().map_err(|e| StorageError(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StorageError(e.to_string()))?;
            let output = self
                .s3()
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| StorageError(describe(&e)))?;
            if let Some(failed) = output.errors().first() {
                return Err(StorageError(format!(
                    "{} of {} objects were not deleted, e.g. {}: {}",
                    output.errors().len(),
                    chunk.len(),
                    failed.key().unwrap_or("?"),
                    failed.message().unwrap_or("no reason given")
                )));
            }
        }
        Ok(())
    }

    /// Deletes the object; deleting a missing key is not an error (S3 semantics).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.s3().delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| StorageError(describe(&e)))?;
        Ok(())
    }

    /// Every object under a prefix, following continuation tokens.
    pub async fn list(&self, prefix: &str) -> Result<Vec<StoredObject>, StorageError> {
        let mut objects = Vec::new();
        let mut pages = self.s3().list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StorageError(describe(&e)))?;
            objects.extend(page.contents().iter().map(|o| StoredObject {
                key: o.key().unwrap_or_default().to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
                last_modified: o.last_modified().and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
            }));
        }
        Ok(objects)
    }

    /// A URL the client can PUT exactly this content type and length to, valid for `expires_in`.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        let presigning = PresigningConfig::expires_in(expires_in).map_err(|e| StorageError(e.to_string()))?;
        let request = self
            .s3()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(content_length as i64)
            .presigned(presigning)
            .await
            .map_err(|e| StorageError(describe(&e)))?;
        Ok(request.uri().to_string())
    }
}
