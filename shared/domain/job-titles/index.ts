/** Job-title intelligence (pure domain logic). See data/job-titles/README.md for the dataset. */
export * from './taxonomy-schema';
export * from './taxonomy';
export * from './normalize';
export * from './word-cloud';
export * from './analyze';
export * from './pathways';
export * from './relationships';
export * from './market-trend';
export * from './market-intelligence';
