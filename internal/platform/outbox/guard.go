package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A relay never adds entries on top of a stream that went back in time. Each publication runs
// as one script in Redis that first compares the stream's last generated id (0-0 when the key is
// missing) with the highest id this database recorded for the stream, and adds nothing when the
// stream is behind: a flushed or failed-over broker would otherwise hand out fresh, higher ids,
// and the evidence of the loss (a last id below the recorded one) would be gone.

const lastIDLua = `
local function last_id(key)
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
`

// publishScript: KEYS[1] the stream; ARGV[1], ARGV[2] the ms and seq of the highest entry id the
// database recorded for it; then event_id, type and envelope of each entry. It returns the new
// entry ids, or the error "ACCRUE_STREAM_BEHIND <last id>".
var publishScript = redis.NewScript(lastIDLua + `
local last = last_id(KEYS[1])
local dash = string.find(last, '-', 1, true)
local ms, seq = tonumber(string.sub(last, 1, dash - 1)), tonumber(string.sub(last, dash + 1))
local hms, hseq = tonumber(ARGV[1]), tonumber(ARGV[2])
if ms < hms or (ms == hms and seq < hseq) then
  return redis.error_reply('ACCRUE_STREAM_BEHIND ' .. last)
end
local ids = {}
for i = 3, #ARGV, 3 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'event_id', ARGV[i], 'type', ARGV[i + 1], 'envelope', ARGV[i + 2])
end
return ids
`)

// lastIDScript returns the stream's last generated id, 0-0 when the key is missing.
var lastIDScript = redis.NewScript(lastIDLua + `return last_id(KEYS[1])`)

const behindPrefix = "ACCRUE_STREAM_BEHIND "

// behindError says that a stream's last id in Redis is below the highest id the database recorded.
type behindError struct {
	stream         string
	last, recorded entryID
}

func (e *behindError) Error() string {
	return fmt.Sprintf("outbox: stream %s went back to %s, below the recorded %s: Redis lost entries", e.stream, e.last, e.recorded)
}

// xadd adds rows to stream key unless the stream is behind recorded; it returns their entry ids.
func (r *Relay) xadd(ctx context.Context, stream string, recorded entryID, rows []row) ([]entryID, error) {
	args := make([]any, 0, 2+3*len(rows))
	args = append(args, recorded.ms, recorded.seq)
	for _, x := range rows {
		args = append(args, x.eventID, x.evType, x.envelope)
	}
	raw, err := publishScript.Run(ctx, r.rdb, []string{r.cfg.StreamPrefix + stream}, args...).StringSlice()
	if err != nil {
		if msg := err.Error(); strings.HasPrefix(msg, behindPrefix) {
			last, perr := parseID(strings.TrimPrefix(msg, behindPrefix))
			if perr != nil {
				return nil, errors.Join(err, perr)
			}
			return nil, &behindError{stream: stream, last: last, recorded: recorded}
		}
		return nil, err
	}
	if len(raw) != len(rows) {
		return nil, fmt.Errorf("outbox: %d entry ids for %d rows", len(raw), len(rows))
	}
	ids := make([]entryID, len(raw))
	for i, s := range raw {
		if ids[i], err = parseID(s); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// lastID returns the last generated id of stream (logical name) in Redis, 0-0 when it is missing.
func (r *Relay) lastID(ctx context.Context, stream string) (entryID, error) {
	s, err := lastIDScript.Run(ctx, r.rdb, []string{r.cfg.StreamPrefix + stream}).Text()
	if err != nil {
		return entryID{}, err
	}
	return parseID(s)
}
