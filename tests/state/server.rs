//! The DL/T 645 server's stored state, without serde: the passwords and the wrong-password
//! record round-trip through `emit`/`parse`/`restore`, a restored server is still locked out,
//! and corrupted, foreign or impossible states are refused.

use prepaid_meter::endpoint::dlt645::{
    ClockLog, Passwords, Server, ServerConfig, ServerConfigError, ServerState,
};
use prepaid_meter::security::FailureRecord;
use prepaid_meter::snapshot::{Snapshot, SnapshotError};
use prepaid_meter::time::Timestamp;

const DAY: i64 = 20_000;

/// An instant one hour into local day `DAY` at the server's configured offset.
fn on_the_day() -> Timestamp {
    let offset = i64::from(ServerConfig::default().offset.seconds());
    Timestamp::from_unix(DAY * 86_400 - offset + 3_600)
}

fn locked_out() -> ServerState {
    ServerState {
        passwords: Passwords::new([1, 2, 3]).with(2, [4, 5, 6]).unwrap(),
        failures: FailureRecord {
            day: DAY,
            today: 3,
            consecutive: 3,
            suspended: false,
        },
        clock: ClockLog::default(),
    }
}

#[test]
fn server_state_round_trips_and_a_restored_server_stays_locked() {
    let state = locked_out();
    let mut buf = [0u8; 96];
    let n = state.emit(&mut buf).unwrap();
    assert_eq!(n, state.buffer_len());
    assert_eq!(
        n, 64,
        "5 header + 30 passwords + 15 failure record + 10 empty clock log + 4 CRC"
    );
    assert_eq!(&buf[..3], b"SV\x02");
    let parsed = ServerState::parse(&buf[..n]).unwrap();
    assert_eq!(parsed, state);
    let server = Server::restore(ServerConfig::default(), parsed).unwrap();
    assert!(
        server.is_locked(on_the_day()),
        "the lock-out survives a restart"
    );
    assert!(!server.is_locked(Timestamp::from_unix(on_the_day().unix() + 86_400)));
    assert_eq!(server.state(), state);
    assert_eq!(server.state().passwords.get(2), Some([4, 5, 6]));
}

#[test]
fn corrupted_foreign_and_impossible_server_states_are_refused() {
    let state = locked_out();
    let mut buf = [0u8; 96];
    let n = state.emit(&mut buf).unwrap();
    for i in 5..n {
        for bit in 0..8 {
            let mut b = buf;
            b[i] ^= 1 << bit;
            assert_eq!(
                ServerState::parse(&b[..n]),
                Err(SnapshotError::BadChecksum),
                "byte {i} bit {bit}"
            );
        }
    }
    let mut b = buf;
    b[2] = 3;
    assert_eq!(
        ServerState::parse(&b[..n]),
        Err(SnapshotError::UnsupportedVersion(3))
    );
    let mut b = buf;
    b[0] = b'S';
    b[1] = b'S'; // the security state's magic
    assert_eq!(ServerState::parse(&b[..n]), Err(SnapshotError::BadMagic));
    assert_eq!(
        ServerState::parse(&buf[..n - 1]),
        Err(SnapshotError::Truncated)
    );

    // More wrong passwords in a day than the daily limit (3) allows: not a state a server
    // reaches, so a restart refuses it rather than trusting it.
    let mut impossible = locked_out();
    impossible.failures.today = 4;
    assert_eq!(
        Server::restore(ServerConfig::default(), impossible).err(),
        Some(ServerConfigError::InconsistentFailures)
    );
}
