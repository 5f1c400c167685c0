//! `oidc_metadata`: what webd needs to publish the provider's discovery
//! document and key set: the issuer authd signs as, and the public keys
//! (a JWKS) that verify what it signed. authd owns both, so every webd in
//! front of it publishes the same.

use super::string;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// No fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcMetadata;

/// `str` issuer, `str` the JWKS (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks: String,
}

impl Operation for OidcMetadata {
    const OPCODE: Opcode = Opcode::OidcMetadata;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = ProviderMetadata;
}

impl Message for OidcMetadata {
    fn encode(&self, _: &mut FieldWriter<'_>) {}

    fn decode(_: &mut FieldReader<'_>) -> Result<OidcMetadata, DecodeError> {
        Ok(OidcMetadata)
    }
}

impl Message for ProviderMetadata {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.issuer).str(&self.jwks);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<ProviderMetadata, DecodeError> {
        Ok(ProviderMetadata {
            issuer: string(r)?,
            jwks: string(r)?,
        })
    }
}
