//! Interactive sessions: the identity-authentication messages (shaped like DL/T 645 070000FF)
//! and the session record. See the [module docs](super).

#![deny(clippy::indexing_slicing)]

use super::seal::{FORMAT_VERSION, FrameError, TagLength};
use crate::address::Address;
use crate::time::Timestamp;

/// Length of each side's random challenge.
pub const CHALLENGE_LEN: usize = 16;
/// Message type of an authentication request.
pub const AUTH_REQUEST_TYPE: u8 = 0xA1;
/// Message type of an authentication response.
pub const AUTH_RESPONSE_TYPE: u8 = 0xA2;
/// Bytes of an authentication request before its proof.
pub const AUTH_REQUEST_BODY_LEN: usize = 27;
/// Bytes of an authentication response before its proof.
pub const AUTH_RESPONSE_BODY_LEN: usize = 35;

/// An identity-authentication request (head-end to meter), without its proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthRequest {
    /// The meter.
    pub address: Address,
    /// The meter key version the head-end used.
    pub key_version: u16,
    /// Length of the proof.
    pub proof_len: TagLength,
    /// The head-end's challenge `R_H`.
    pub challenge: [u8; CHALLENGE_LEN],
}

/// An identity-authentication response (meter to head-end), without its proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthResponse {
    /// The meter.
    pub address: Address,
    /// The meter key version.
    pub key_version: u16,
    /// Length of the proof.
    pub proof_len: TagLength,
    /// The session id that session-mode frames carry.
    pub session_id: u32,
    /// How long the session lasts from the meter's acceptance, in seconds.
    pub validity_secs: u32,
    /// The meter's challenge `R_M`.
    pub challenge: [u8; CHALLENGE_LEN],
}

fn parse_common(
    bytes: &[u8],
    ty: u8,
    body_len: usize,
) -> Result<(Address, u16, TagLength), FrameError> {
    let Some((h, _)) = bytes.split_first_chunk::<11>() else {
        return Err(FrameError::Truncated);
    };
    let [version, msg_type, a0, a1, a2, a3, a4, a5, k0, k1, proof_len] = *h;
    if version != FORMAT_VERSION {
        return Err(FrameError::Version);
    }
    if msg_type != ty {
        return Err(FrameError::MessageType);
    }
    let address = Address::from_wire([a5, a4, a3, a2, a1, a0]).map_err(|_| FrameError::Address)?;
    let proof_len = TagLength::new(proof_len)?;
    if bytes.len() != body_len + proof_len.as_usize() {
        return Err(FrameError::Length);
    }
    Ok((address, u16::from_be_bytes([k0, k1]), proof_len))
}

fn emit_common(out: &mut [u8], ty: u8, address: Address, key_version: u16, proof_len: TagLength) {
    let a = address.to_be_bytes();
    let k = key_version.to_be_bytes();
    let h = [
        FORMAT_VERSION,
        ty,
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
        a[5],
        k[0],
        k[1],
        proof_len.get(),
    ];
    if let Some(dst) = out.get_mut(..h.len()) {
        dst.copy_from_slice(&h);
    }
}

impl AuthRequest {
    /// Parses a whole request; returns it with its body bytes (what the proof covers) and proof.
    pub fn parse(bytes: &[u8]) -> Result<(AuthRequest, &[u8], &[u8]), FrameError> {
        let (address, key_version, proof_len) =
            parse_common(bytes, AUTH_REQUEST_TYPE, AUTH_REQUEST_BODY_LEN)?;
        let (body, proof) = bytes
            .split_at_checked(AUTH_REQUEST_BODY_LEN)
            .ok_or(FrameError::Truncated)?;
        let challenge = body
            .get(11..)
            .and_then(|c| <[u8; CHALLENGE_LEN]>::try_from(c).ok())
            .ok_or(FrameError::Truncated)?;
        let req = AuthRequest {
            address,
            key_version,
            proof_len,
            challenge,
        };
        Ok((req, body, proof))
    }

    /// The body bytes (everything but the proof).
    pub fn emit_body(&self) -> [u8; AUTH_REQUEST_BODY_LEN] {
        let mut out = [0u8; AUTH_REQUEST_BODY_LEN];
        emit_common(
            &mut out,
            AUTH_REQUEST_TYPE,
            self.address,
            self.key_version,
            self.proof_len,
        );
        if let Some(dst) = out.get_mut(11..) {
            dst.copy_from_slice(&self.challenge);
        }
        out
    }

    /// Whole message length.
    pub const fn buffer_len(&self) -> usize {
        AUTH_REQUEST_BODY_LEN + self.proof_len.as_usize()
    }
}

impl AuthResponse {
    /// Parses a whole response; returns it with its body bytes and proof.
    pub fn parse(bytes: &[u8]) -> Result<(AuthResponse, &[u8], &[u8]), FrameError> {
        let (address, key_version, proof_len) =
            parse_common(bytes, AUTH_RESPONSE_TYPE, AUTH_RESPONSE_BODY_LEN)?;
        let (body, proof) = bytes
            .split_at_checked(AUTH_RESPONSE_BODY_LEN)
            .ok_or(FrameError::Truncated)?;
        let rest = body.get(11..).ok_or(FrameError::Truncated)?;
        let (sid, rest) = rest.split_first_chunk::<4>().ok_or(FrameError::Truncated)?;
        let (validity, rest) = rest.split_first_chunk::<4>().ok_or(FrameError::Truncated)?;
        let challenge = <[u8; CHALLENGE_LEN]>::try_from(rest).map_err(|_| FrameError::Truncated)?;
        let resp = AuthResponse {
            address,
            key_version,
            proof_len,
            session_id: u32::from_be_bytes(*sid),
            validity_secs: u32::from_be_bytes(*validity),
            challenge,
        };
        Ok((resp, body, proof))
    }

    /// The body bytes (everything but the proof).
    pub fn emit_body(&self) -> [u8; AUTH_RESPONSE_BODY_LEN] {
        let mut out = [0u8; AUTH_RESPONSE_BODY_LEN];
        emit_common(
            &mut out,
            AUTH_RESPONSE_TYPE,
            self.address,
            self.key_version,
            self.proof_len,
        );
        if let Some(rest) = out.get_mut(11..) {
            let (sid, rest) = rest.split_at_mut(4);
            sid.copy_from_slice(&self.session_id.to_be_bytes());
            let (validity, r) = rest.split_at_mut(4);
            validity.copy_from_slice(&self.validity_secs.to_be_bytes());
            r.copy_from_slice(&self.challenge);
        }
        out
    }

    /// Whole message length.
    pub const fn buffer_len(&self) -> usize {
        AUTH_RESPONSE_BODY_LEN + self.proof_len.as_usize()
    }
}

/// An established session, as either side keeps it (the keys stay in the security module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionInfo {
    /// The session id.
    pub id: u32,
    /// When the meter accepted the authentication (the head-end: when it saw the response).
    pub started: Timestamp,
    /// Validity in seconds.
    pub validity_secs: u32,
    /// The last sequence number used (head-end) or accepted (meter); 0 before the first.
    pub last_seq: u32,
}

impl SessionInfo {
    /// `true` while `now` lies in `[started, started + validity)`. A clock that went back
    /// before the start ends the session too.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        match now.checked_secs_since(self.started) {
            Some(age) => age >= 0 && age < i64::from(self.validity_secs),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip_and_errors() {
        let req = AuthRequest {
            address: "000000000161".parse().unwrap(),
            key_version: 2,
            proof_len: TagLength::DEFAULT,
            challenge: [7; 16],
        };
        let mut msg = [0u8; 35];
        msg[..27].copy_from_slice(&req.emit_body());
        msg[27..].fill(0xEE);
        let (parsed, body, proof) = AuthRequest::parse(&msg).unwrap();
        assert_eq!(parsed, req);
        assert_eq!(body, &msg[..27]);
        assert_eq!(proof, &[0xEE; 8]);
        assert_eq!(req.buffer_len(), 35);
        assert_eq!(AuthRequest::parse(&msg[..34]), Err(FrameError::Length));
        assert_eq!(AuthRequest::parse(&msg[..5]), Err(FrameError::Truncated));
        assert_eq!(AuthResponse::parse(&msg), Err(FrameError::MessageType));
        let mut bad = msg;
        bad[0] = 9;
        assert_eq!(AuthRequest::parse(&bad), Err(FrameError::Version));
    }

    #[test]
    fn response_round_trip() {
        let resp = AuthResponse {
            address: "000000000161".parse().unwrap(),
            key_version: 2,
            proof_len: TagLength::new(12).unwrap(),
            session_id: 0x01020304,
            validity_secs: 300,
            challenge: [9; 16],
        };
        let mut msg = [0u8; 47];
        msg[..35].copy_from_slice(&resp.emit_body());
        assert_eq!(&msg[11..19], &[1, 2, 3, 4, 0, 0, 1, 44]);
        let (parsed, _, proof) = AuthResponse::parse(&msg).unwrap();
        assert_eq!(parsed, resp);
        assert_eq!(proof.len(), 12);
    }

    #[test]
    fn validity_window() {
        let s = SessionInfo {
            id: 1,
            started: Timestamp::from_unix(1000),
            validity_secs: 300,
            last_seq: 0,
        };
        assert!(s.is_valid_at(Timestamp::from_unix(1000)));
        assert!(s.is_valid_at(Timestamp::from_unix(1299)));
        assert!(!s.is_valid_at(Timestamp::from_unix(1300)));
        assert!(!s.is_valid_at(Timestamp::from_unix(999)));
        assert!(!s.is_valid_at(Timestamp::from_unix(i64::MIN)));
    }
}
