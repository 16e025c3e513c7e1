// Two projects: `unit` (wx mocked, pages rendered by miniprogram-simulate) and `e2e` (the real
// api/request.js + services/session.js against a live backend started by tests/e2e/globalSetup.js).
//   npm test                    both
//   npm run test:unit           unit only (jest --selectProjects unit)
//   npm run test:e2e            e2e only
module.exports = {
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/tests/**/*.test.js'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/e2e/'],
      setupFilesAfterEnv: ['<rootDir>/tests/setup/clock.js'],
      clearMocks: true,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e.test.js'],
      globalSetup: '<rootDir>/tests/e2e/globalSetup.js',
      globalTeardown: '<rootDir>/tests/e2e/globalTeardown.js',
    },
  ],
};
