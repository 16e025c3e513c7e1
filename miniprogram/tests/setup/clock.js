// setupFilesAfterEnv of the unit project: every test starts on the run's fixed clock (helpers/clock.js).
const clock = require('../helpers/clock');

clock.reset();
beforeEach(() => clock.reset());
