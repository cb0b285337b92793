// The DataSource for the TypeORM CLI (npm run migration:run / migration:revert /
// migration:generate): the same options the app builds, from the same environment.
import 'reflect-metadata';
import { APP_SCHEMA } from './src/app.entities';
import { loadConfig } from './src/config/configuration';
import { AppDataSource, buildDataSourceOptions } from './src/database/database.options';

export default new AppDataSource(buildDataSourceOptions(loadConfig(process.env), APP_SCHEMA));
