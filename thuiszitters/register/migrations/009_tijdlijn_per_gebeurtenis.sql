-- Lists across cases of one kind of event in a recent period (Leerplicht's start-date corrections and vrijstelling
-- requests, thuiszitters.register.teams) read the timeline by event and time, not every line of every case.
CREATE INDEX case_events_gebeurtenis_idx ON case_events (gebeurtenis, tijd);
