import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class RefreshDto {
  @ApiProperty({ example: 'q3V9yJ0cZ5Yw8m0c2w7b3H3zv5p9g3kqk6Xc1Tq2JzE' })
  @IsString()
  @Length(1, 512)
  refreshToken: string;
}
